/**
 * Server-Sent Events from a byte stream, parsed by `eventsource-parser` (the WHATWG format:
 * multi-line data, comments, CRLF, chunks split anywhere). Adds what the parser leaves to its
 * caller: UTF-8 decoding across chunks and the last event id, which `Last-Event-ID` resumes from.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser'

export interface SseMessage {
  id: string | null
  event: string
  data: string
}

export async function* readSse(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder()
  const parsed: EventSourceMessage[] = []
  const parser = createParser({ onEvent: message => parsed.push(message) })
  // The id persists across messages until another one sets it, as in EventSource.lastEventId.
  let lastId: string | null = null

  function* drain(): Generator<SseMessage> {
    for (const message of parsed.splice(0)) {
      if (message.id !== undefined) lastId = message.id
      yield { id: lastId, event: message.event ?? 'message', data: message.data }
    }
  }

  for await (const chunk of chunks) {
    parser.feed(decoder.decode(chunk, { stream: true }))
    yield* drain()
  }
  parser.feed(decoder.decode())
  // A message without its closing blank line is incomplete and dropped, as browsers do.
  yield* drain()
}
