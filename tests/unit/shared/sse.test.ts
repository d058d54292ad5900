import { describe, expect, it } from 'vitest'
import { readSse, type SseMessage } from '../../../shared/sse'

async function collect(chunks: Array<string | Uint8Array>): Promise<SseMessage[]> {
  const encoder = new TextEncoder()
  async function* source() {
    for (const chunk of chunks) yield typeof chunk === 'string' ? encoder.encode(chunk) : chunk
  }
  const out: SseMessage[] = []
  for await (const message of readSse(source())) out.push(message)
  return out
}

describe('readSse', () => {
  it('reads id and data, keeping the last id for later messages', async () => {
    expect(await collect(['id: 1\ndata: {"a":1}\n\n', 'data: two\n\n'])).toEqual([
      { id: '1', event: 'message', data: '{"a":1}' },
      { id: '1', event: 'message', data: 'two' },
    ])
  })

  it('joins multi-line data and honours event names', async () => {
    expect(await collect(['event: log\ndata: a\ndata: b\n\n'])).toEqual([{ id: null, event: 'log', data: 'a\nb' }])
  })

  it('skips comments (heartbeats) and blocks without data', async () => {
    expect(await collect([': heartbeat\n\n', 'event: nothing\n\n', 'id: 7\ndata: x\n\n'])).toEqual([{ id: '7', event: 'message', data: 'x' }])
  })

  it('copes with chunks split anywhere, CRLF line ends and split UTF-8 characters', async () => {
    const bytes = new TextEncoder().encode('id: 2\r\ndata: über → ✔\r\n\r\n')
    const chunks = Array.from(bytes, b => new Uint8Array([b]))
    expect(await collect(chunks)).toEqual([{ id: '2', event: 'message', data: 'über → ✔' }])
  })

  it('does not split a CRLF that arrives in two chunks into two line ends', async () => {
    expect(await collect(['data: a\r', '\ndata: b\r\n\r\n'])).toEqual([{ id: null, event: 'message', data: 'a\nb' }])
  })

  it('drops a final message that never got its blank line', async () => {
    expect(await collect(['data: done\n\n', 'data: cut off'])).toEqual([{ id: null, event: 'message', data: 'done' }])
  })
})
