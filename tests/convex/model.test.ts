// @vitest-environment edge-runtime
/** convex/model.ts on its own: validators derived from the shared schemas, and the bounds. */
import { getConvexSize } from 'convex/values'
import { describe, expect, it } from 'vitest'
import { boundSteps, clipMessage, MESSAGE_MAX, RUN_STEPS_BUDGET_BYTES, STEP_LOG_LINE_MAX, type StoredStep } from '../../convex/component/model'
import schema from '../../convex/component/schema'
import { releaseSchema, runSchema, storedUserSchema } from '../../shared/schemas'
import { STEP_LOG_LIMIT } from '../../shared/steps'
import { newBackend, system } from './harness'

const step = (log: string[]): StoredStep => ({ name: 'pull', status: 'running', startedAt: 1, endedAt: null, log, error: null })

describe('validators derived from shared/schemas', () => {
  const fieldsOf = (table: keyof typeof schema.tables) => Object.keys(schema.tables[table].validator.fields).sort()
  const keysOf = (shape: object, ...more: string[]) => [...Object.keys(shape), ...more].filter(key => key !== 'id').sort()

  it('stores each record with the fields of its zod schema (the id is the document\'s _id)', () => {
    expect(fieldsOf('runs')).toEqual(keysOf(runSchema.shape))
    expect(fieldsOf('users')).toEqual(keysOf(storedUserSchema.shape))
    expect(fieldsOf('releases')).toEqual(keysOf(releaseSchema.shape, 'position'))
  })

  it('refuses at the function boundary what the zod schemas refuse', async () => {
    const t = newBackend()
    const request = { kind: 'update', fromVersion: '1.2.2', toVersion: '1.3.0', requestedBy: { email: null, via: 'web' } } as const
    await expect(t.mutation(system.runs.open, { ...request, kind: 'sidegrade' as 'update' })).rejects.toThrow(/Validator error/)
    await expect(t.mutation(system.runs.open, { ...request, requestedBy: { email: null, via: 'fax' as 'web' } })).rejects.toThrow(/Validator error/)
    const run = await t.mutation(system.runs.open, request)
    await expect(t.mutation(system.runs.update, { runId: run.id, patch: { steps: [{ name: 'pull' } as StoredStep] } })).rejects.toThrow(/Validator error/)
  })
})

describe('boundSteps', () => {
  it('keeps the newest STEP_LOG_LIMIT lines', () => {
    const log = Array.from({ length: STEP_LOG_LIMIT + 5 }, (_, i) => `line ${i}`)
    const [bounded] = boundSteps([step(log)])
    expect(bounded!.log).toEqual(log.slice(5))
  })

  it('clips long lines without splitting a surrogate pair', () => {
    const line = `${'a'.repeat(STEP_LOG_LINE_MAX - 1)}😀tail`
    const [bounded] = boundSteps([step([line])])
    expect(bounded!.log[0]).toBe(`${'a'.repeat(STEP_LOG_LINE_MAX - 1)}…`)
  })

  it('drops the oldest lines of the longest logs until the steps fit the budget', () => {
    const big = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}${i} ${'z'.repeat(STEP_LOG_LINE_MAX - 10)}`)
    const steps = [step(big('a', STEP_LOG_LIMIT)), step(big('b', STEP_LOG_LIMIT)), step(['short'])]
    const bounded = boundSteps(steps)
    expect(getConvexSize(bounded)).toBeLessThanOrEqual(RUN_STEPS_BUDGET_BYTES)
    expect(bounded[2]!.log).toEqual(['short'])
    expect(bounded[0]!.log.at(-1)).toBe(steps[0]!.log.at(-1))
    expect(bounded[1]!.log.at(-1)).toBe(steps[1]!.log.at(-1))
    // Evenly: the two long logs end within a line of each other.
    expect(Math.abs(bounded[0]!.log.length - bounded[1]!.log.length)).toBeLessThanOrEqual(1)
  })

  it('does not touch the input', () => {
    const log = Array.from({ length: STEP_LOG_LIMIT + 1 }, (_, i) => `l${i}`)
    boundSteps([step(log)])
    expect(log).toHaveLength(STEP_LOG_LIMIT + 1)
  })
})

describe('clipMessage', () => {
  it('keeps null and short messages and clips long ones', () => {
    expect(clipMessage(null)).toBeNull()
    expect(clipMessage('why')).toBe('why')
    expect(clipMessage('w'.repeat(MESSAGE_MAX + 10))).toHaveLength(MESSAGE_MAX + 1)
  })
})
