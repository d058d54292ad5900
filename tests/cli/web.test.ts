/**
 * The CLI and the web drive one updater: a run started with `owlat upgrade` shows in the web's
 * history as started from the CLI, and a run started in the web shows in `owlat history`.
 * Real processes throughout: the sidecar subprocess, the built web it supervises, the CLI binary.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { historySchema, runAcceptedSchema, runSchema, versionInfoSchema } from '../../shared/schemas/api'
import { jobListSchema } from '../../shared/schemas/job'
import { ADMIN, startStack, UPDATER_PORT, waitFor, WEB, WEB_PORT, type Stack } from '../server/stack'
import { runCli } from './helpers'

describe('owlat and the web share one updater', () => {
  let stack: Stack
  let cookie: string
  let cliEnv: Record<string, string>

  async function api(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${WEB}${path}`, {
      method,
      headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    })
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    return res.json()
  }

  beforeAll(async () => {
    stack = await startStack()
    const owlatDir = join(stack.dataDir, 'project')
    mkdirSync(owlatDir)
    cliEnv = {
      OWLAT_DATA_DIR: stack.dataDir,
      OWLAT_DIR: owlatDir,
      OWLAT_UPDATER_PORT: String(UPDATER_PORT),
      PORT: String(WEB_PORT),
    }
    const res = await fetch(`${WEB}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    })
    expect(res.status).toBe(200)
    cookie = res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
  })

  afterAll(async () => {
    await stack?.stop()
  })

  it('shows an upgrade run from the CLI in the web history, as started from the CLI', async () => {
    const upgrade = await runCli(['upgrade', '--version', '1.3.0', '--yes'], cliEnv)
    expect(upgrade.stderr).toBe('')
    expect(upgrade.exitCode).toBe(0)

    // The web restarted on 1.3.0 (the session cookie survives the restart).
    const version = await waitFor('the web on 1.3.0', async () => {
      const info = versionInfoSchema.parse(await api('GET', '/api/system/version'))
      return info.version === '1.3.0' ? info : undefined
    })
    expect(version.version).toBe('1.3.0')

    // The web's reconciliation loop takes the job's outcome from the updater on its own schedule.
    const runs = await waitFor('the CLI\'s run to be succeeded in the web', async () => {
      const { runs } = historySchema.parse(await api('GET', '/api/system/history'))
      return runs[0]?.status === 'succeeded' ? runs : undefined
    })
    expect(runs).toHaveLength(1)
    expect(runs[0]).toMatchObject({
      kind: 'update',
      fromVersion: '1.2.2',
      toVersion: '1.3.0',
      status: 'succeeded',
      requestedBy: { via: 'cli' },
    })
    expect(runs[0]!.steps.find(s => s.name === 'commit')?.status).toBe('succeeded')
  })

  it('shows a rollback started in the web in `owlat history`', async () => {
    const { runId } = runAcceptedSchema.parse(await api('POST', '/api/system/rollbacks', { targetVersion: '1.2.3' }))
    const run = await waitFor('the web rollback to end', async () => {
      const current = runSchema.parse(await api('GET', `/api/system/updates/${runId}`))
      return current.status === 'queued' || current.status === 'running' ? undefined : current
    })
    expect(run.status).toBe('succeeded')

    const history = await runCli(['history', '--json'], cliEnv)
    expect(history.exitCode).toBe(0)
    const { jobs } = jobListSchema.parse(JSON.parse(history.stdout))
    expect(jobs.map(j => [j.kind, j.toVersion, j.status, j.requestedBy.via])).toEqual([
      ['rollback', '1.2.3', 'succeeded', 'web'],
      ['update', '1.3.0', 'succeeded', 'cli'],
    ])
    expect(jobs[0]!.runId).toBe(runId)
  })
})
