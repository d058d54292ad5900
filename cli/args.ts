/**
 * Argument validation. citty parses leniently (unknown flags pass, repeated flags become
 * arrays), so every command runs its parsed arguments through this and a zod schema: an
 * unknown option, a stray argument or a bad value ends in one clear line.
 */
import type { ArgsDef, CommandContext } from 'citty'
import { z } from 'zod'
import { usageError } from './errors'

export interface ValidateOptions {
  /** String options that may be repeated (`--allow-image a --allow-image b`). */
  repeatable?: readonly string[]
}

function label(name: string, defs: ArgsDef): string {
  return defs[name]?.type === 'positional' ? name.toUpperCase() : `--${name}`
}

/** Validates `ctx.args` against the command's definitions and `schema`; throws a usage error. */
export function validateArgs<D extends ArgsDef, S extends z.ZodType>(
  ctx: CommandContext<D>,
  defs: D,
  schema: S,
  opts: ValidateOptions = {},
): z.output<S> {
  const known = new Set<string>(['_'])
  for (const [name, def] of Object.entries(defs)) {
    known.add(name)
    if ('alias' in def && def.alias) for (const a of [def.alias].flat()) known.add(a)
  }
  const raw = ctx.args as Record<string, unknown>
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) throw usageError(`unknown option ${key.length === 1 ? '-' : '--'}${key}: see --help`)
  }
  const positionals = Object.entries(defs).filter(([, def]) => def.type === 'positional')
  const extra = ctx.args._.slice(positionals.length)
  if (extra.length > 0) throw usageError(`unexpected argument "${extra[0]}": see --help`)

  const input: Record<string, unknown> = {}
  for (const [name, def] of Object.entries(defs)) {
    let value = raw[name]
    if (def.type === 'string') {
      if (opts.repeatable?.includes(name)) value = value === undefined ? [] : [value].flat().map(String)
      else if (Array.isArray(value)) throw usageError(`--${name} was given more than once`)
      else if (value === '') throw usageError(`--${name} needs a value`)
    }
    input[name] = value
  }
  const parsed = schema.safeParse(input)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const name = issue.path[0] === undefined ? 'arguments' : label(String(issue.path[0]), defs)
    throw usageError(`${name}: ${issue.message}`)
  }
  return parsed.data
}

/** A whole number given on the command line, within bounds. */
export function countArg(min: number, max: number) {
  return z.string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
}
