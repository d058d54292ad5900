/**
 * For readValidatedBody / getValidatedQuery / getValidatedRouterParams: like `schema.parse`, but
 * the error message names each bad field in words (zod's own message is JSON). h3 turns whatever
 * the validator throws into a 400 with this message and the error's fields (`issues`) as data.
 */
import type { z } from 'zod'

export class RequestValidationError extends Error {
  constructor(readonly issues: { path: string, message: string }[]) {
    super(`Invalid request: ${issues.map(i => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`)
    this.name = 'RequestValidationError'
  }
}

export function zodValidator<S extends z.ZodType>(schema: S) {
  return (data: unknown): z.output<S> => {
    const parsed = schema.safeParse(data)
    if (parsed.success) return parsed.data
    throw new RequestValidationError(parsed.error.issues.map(i => ({ path: i.path.join('.'), message: i.message })))
  }
}
