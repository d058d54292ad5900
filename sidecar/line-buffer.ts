import type { ServiceLogEntry } from '../shared/service-output'

// `2026-11-20T12:00:01.123456789Z text` (nanoseconds are more than Date.parse takes).
const TIMESTAMPED = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?)\d*(Z|[+-]\d\d:\d\d) ?(.*)$/

/**
 * A bounded ring of a service's output lines, each with when it arrived and the version that
 * wrote it: recent output, kept without growing forever.
 */
export class LineBuffer {
  private entries: ServiceLogEntry[] = []
  /** The unfinished last line of each stream (stdout and stderr must not splice into each other). */
  private readonly partial = new Map<string, string>()

  /**
   * `timestamps`: each line starts with the writer's RFC 3339 time and a space (the Engine API's
   * `timestamps` option), which is taken as the line's time and cut off.
   */
  constructor(private readonly capacity = 1000, private readonly opts: { now?: () => number, timestamps?: boolean } = {}) {}

  /** Accepts raw output chunks of one stream; a line is complete once its newline arrives. */
  write(chunk: string, version: string | null = null, stream = 'out'): void {
    const parts = ((this.partial.get(stream) ?? '') + chunk).split(/\r?\n/)
    this.partial.set(stream, parts.pop() ?? '')
    for (const line of parts) {
      const stamped = this.opts.timestamps ? TIMESTAMPED.exec(line) : null
      const at = stamped ? Date.parse(`${stamped[1]}${stamped[2]}`) : Number.NaN
      if (stamped && !Number.isNaN(at)) this.push(stamped[3]!, version, at)
      else this.push(line, version)
    }
  }

  push(line: string, version: string | null = null, at = (this.opts.now ?? Date.now)()): void {
    this.entries.push({ at, version, line })
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity)
  }

  /** The newest `n` complete lines, oldest first. */
  tail(n = this.capacity): string[] {
    return this.entriesTail(n).map(e => e.line)
  }

  /** The newest `n` complete lines with their time and version, oldest first. */
  entriesTail(n = this.capacity): ServiceLogEntry[] {
    return n <= 0 ? [] : this.entries.slice(-n)
  }
}
