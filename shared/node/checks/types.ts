/**
 * One check's outcome, the same shape wherever checks run: the compose driver's preflight (which
 * refuses an update when a blocking check fails, before anything changes), `owlat doctor`, and
 * a plan. `skip` says a check could not run here and why (in `message`). Node only.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip'

export interface Check {
  /** Stable id, e.g. `convex-data-volume`. */
  id: string
  status: CheckStatus
  /** One line: what was found, with the figure when there is one. */
  message: string
  /** What to do about it; null when nothing needs doing. */
  fix: string | null
  /** A `fail` of a blocking check refuses the update. */
  blocking: boolean
}

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
