/**
 * When `verify` fails, the failing service's own last lines go into the step's log (and so stay
 * with the run in the journal and the web's store): the cause, in the service's words, next to
 * the updater's summary. Shared by every driver.
 */
import { formatOutputLine, OUTPUT_LINES_KEPT, outputHeader, type ServiceLogEntry } from '../../shared/service-output'
import type { StepContext } from './types'

/**
 * Logs the newest of `entries` that `version` of `service` wrote (null: whichever) since `since`
 * (unix ms; null: any time, as after an updater restart), at most `OUTPUT_LINES_KEPT`.
 */
export function keepServiceOutput(ctx: Pick<StepContext, 'log'>, service: string, version: string | null, entries: ServiceLogEntry[], since: number | null): void {
  const own = entries.filter(e => (version === null || e.version === null || e.version === version) && (since === null || e.at >= since))
  const kept = own.slice(-OUTPUT_LINES_KEPT)
  ctx.log(outputHeader(service, version, kept.length))
  for (const entry of kept) ctx.log(formatOutputLine({ service, ...entry, version: entry.version ?? version }))
}
