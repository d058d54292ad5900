const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' })

export function formatDateTime(value: number | string | null): string {
  if (value === null) return '—'
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? '—' : dateTime.format(date)
}

export function formatDate(value: string): string {
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? value : dateOnly.format(date)
}

/** `1.4 s`, `2 min 5 s`; null when the interval is not closed yet. */
export function formatDuration(startedAt: number | null, endedAt: number | null): string | null {
  if (startedAt === null || endedAt === null) return null
  const ms = Math.max(0, endedAt - startedAt)
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`
  const seconds = Math.round(ms / 1000)
  if (seconds < 60) return `${seconds} s`
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`
}

/** `512 B`, `3.4 MB`, `1.2 GB` (decimal units, as disk tools show them). */
export { formatBytes } from '#layers/owlat-system/shared/format-bytes'

/** Whole seconds for a clock that ticks: `23 s`, `2 min 5 s`. */
export function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < 60) return `${seconds} s`
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`
}
