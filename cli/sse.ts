/**
 * A minimal Server-Sent Events reader (the parts of the WHATWG format the sidecar uses:
 * `id:`, `event:`, `data:` over several lines, comments, CRLF or LF). Chunks may split
 * anywhere, even inside a UTF-8 character.
 */
export interface SseMessage {
  id: string | null
  event: string
  data: string
}

export async function* readSse(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder()
  let buffer = ''
  let id: string | null = null
  let event = ''
  let data: string[] = []

  function* lines(final: boolean): Generator<string> {
    let nl = buffer.search(/\r\n|\r|\n/)
    while (nl >= 0) {
      // A lone '\r' at the very end may be the first half of '\r\n' still in flight.
      if (!final && buffer[nl] === '\r' && nl === buffer.length - 1) break
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1))
      yield line
      nl = buffer.search(/\r\n|\r|\n/)
    }
  }

  function* handle(line: string): Generator<SseMessage> {
    if (line === '') {
      if (data.length > 0) yield { id, event: event || 'message', data: data.join('\n') }
      data = []
      event = ''
      return
    }
    if (line.startsWith(':')) return // comment (the sidecar's heartbeat)
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') data.push(value)
    else if (field === 'event') event = value
    else if (field === 'id' && !value.includes('\0')) id = value
  }

  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true })
    for (const line of lines(false)) yield* handle(line)
  }
  buffer += decoder.decode()
  for (const line of lines(true)) yield* handle(line)
  // A message without its closing blank line is incomplete and dropped, as browsers do.
}
