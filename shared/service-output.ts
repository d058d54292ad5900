/**
 * A service's own output (the web's stdout/stderr, a container's log), as the updater keeps it:
 * each line with when it was written and the version that wrote it. `owlat logs SERVICE` prints
 * these; a failed `verify` copies the newest ones into its step log, one line each in the form
 * below, so they stay with the run in every store and the page and the CLI can show them apart
 * from the updater's own lines. Browser-safe.
 */
import { z } from 'zod'

export const serviceLogEntrySchema = z.object({
  /** Unix ms when the line was written (read, for a process; the engine's timestamp, for a container). */
  at: z.number(),
  /** The version of the service that wrote it (its image tag, or the web the local driver ran); null when unknown. */
  version: z.string().nullable(),
  line: z.string(),
})
export type ServiceLogEntry = z.infer<typeof serviceLogEntrySchema>

/** One captured line of a service, as it is kept in a step's log. */
export interface ServiceOutputLine extends ServiceLogEntry {
  service: string
}

/** How many of the failing service's newest lines a failed verify keeps with the run. */
export const OUTPUT_LINES_KEPT = 20

const PREFIX = '⟫ '
// `⟫ web@1.4.0-beta.1 2026-11-20T12:00:01.000Z │ text` (version `?` when unknown).
const LINE = /^⟫ ([\w.-]+)@(\S+) (\d{4}-\d\d-\d\dT[\d:.]+Z) │ ?(.*)$/

export function formatOutputLine(entry: ServiceOutputLine): string {
  return `${PREFIX}${entry.service}@${entry.version ?? '?'} ${new Date(entry.at).toISOString()} │ ${entry.line}`
}

/** A step log line that carries a service's output, or null for the updater's own lines. */
export function parseOutputLine(text: string): ServiceOutputLine | null {
  if (!text.startsWith(PREFIX)) return null
  const m = LINE.exec(text)
  if (!m) return null
  const at = Date.parse(m[3]!)
  if (Number.isNaN(at)) return null
  return { service: m[1]!, version: m[2] === '?' ? null : m[2]!, at, line: m[4]! }
}

/** The header a driver writes before the captured lines. */
export function outputHeader(service: string, version: string | null, count: number): string {
  return count === 0
    ? `${service}${version ? ` ${version}` : ''} wrote nothing while it was verified`
    : `the last ${count} line${count === 1 ? '' : 's'} ${service}${version ? ` ${version}` : ''} wrote:`
}
