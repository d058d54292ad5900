/**
 * One check's outcome, the same shape wherever checks run: the compose driver's preflight (which
 * refuses an update when a blocking check fails, before anything changes), `owlat doctor`, and
 * a plan. `skip` says a check could not run here and why (in `message`). The shape is
 * `checkSchema` (shared/schemas/job.ts), which `POST /v1/checks` answers with. Node only.
 */
import type { Check } from '../../schemas/job'

export type { Check }
export type CheckStatus = Check['status']

export const ok = (id: string, message: string, blocking = false): Check => ({ id, status: 'ok', message, fix: null, blocking })
export const skip = (id: string, message: string, blocking = false): Check => ({ id, status: 'skip', message, fix: null, blocking })
export const warn = (id: string, message: string, fix: string, blocking = false): Check => ({ id, status: 'warn', message, fix, blocking })
export const fail = (id: string, message: string, fix: string, blocking = false): Check => ({ id, status: 'fail', message, fix, blocking })

/** The checks that refuse an update. */
export function blockingFailures(checks: readonly Check[]): Check[] {
  return checks.filter(c => c.blocking && c.status === 'fail')
}

const SYMBOL: Record<CheckStatus, string> = { ok: '✔', warn: '!', fail: '✖', skip: '-' }

/** One line per check, for logs and the terminal. */
export function formatCheck(check: Check): string {
  return `${SYMBOL[check.status]} ${check.status.padEnd(4)} ${check.id.padEnd(20)} ${check.message}${check.fix ? ` → ${check.fix}` : ''}`
}
