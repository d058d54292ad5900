/**
 * The CLI's one failure type: a message that says what to do, and the exit code. The entry
 * point prints it as one stderr line; anything else that escapes is reduced to one line too.
 */
export type CliErrorKind = 'usage' | 'unreachable' | 'unauthorized' | 'sidecar' | 'failure' | 'detached'

export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
/** What shells report for Ctrl-C; used when the CLI detaches from a job that keeps running. */
export const EXIT_INTERRUPTED = 130

export class CliError extends Error {
  readonly exitCode: number
  constructor(message: string, readonly kind: CliErrorKind = 'failure', exitCode?: number) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode ?? (kind === 'usage' ? EXIT_USAGE : kind === 'detached' ? EXIT_INTERRUPTED : EXIT_FAILURE)
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, 'usage')
}

/** One line, whatever was thrown: the first line of its message, never a stack. */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return message.split('\n').map(s => s.trim()).find(Boolean) ?? 'unknown error'
}
