/**
 * The CLI's words for what the shared sidecar client (`shared/sidecar-client.ts`) reports: one
 * line that says what to do, and the kind `doctor` and the job follower act on.
 */
import { SidecarRejectedError, SidecarUnreachableError } from '../shared/sidecar-client'
import { CliError } from './errors'

export type SidecarFailure = SidecarUnreachableError | SidecarRejectedError

export function isSidecarFailure(err: unknown): err is SidecarFailure {
  return err instanceof SidecarUnreachableError || err instanceof SidecarRejectedError
}

export function sidecarFailureKind(err: SidecarFailure): 'unreachable' | 'unauthorized' | 'sidecar' {
  if (err instanceof SidecarUnreachableError) return 'unreachable'
  return err.status === 401 ? 'unauthorized' : 'sidecar'
}

export function describeSidecarFailure(err: SidecarFailure): string {
  if (err instanceof SidecarUnreachableError) return `cannot reach the updater at ${err.url}: is it running? (${err.reason})`
  if (err.status === 401) return 'the updater refused the instance secret: check OWLAT_INSTANCE_SECRET'
  if (err.unexpected) return `${err.message}: are the CLI and the updater the same version?`
  return `the updater answered ${err.status} to ${err.request}: ${err.detail ?? 'no reason given'}`
}

/** A CLI error for anything the client threw; other errors pass through. */
export function asCliError(err: unknown): unknown {
  return isSidecarFailure(err) ? new CliError(describeSidecarFailure(err), sidecarFailureKind(err)) : err
}
