/** A bounded ring of text lines: a service's recent output, kept without growing forever. */
export class LineBuffer {
  private lines: string[] = []
  private partial = ''

  constructor(private readonly capacity = 1000) {}

  /** Accepts raw output chunks; a line is complete once its newline arrives. */
  write(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n/)
    this.partial = parts.pop() ?? ''
    for (const line of parts) this.push(line)
  }

  push(line: string): void {
    this.lines.push(line)
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity)
  }

  /** The newest `n` complete lines, oldest first. */
  tail(n = this.capacity): string[] {
    return n <= 0 ? [] : this.lines.slice(-n)
  }
}
