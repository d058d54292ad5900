/**
 * What an unauthenticated or slow client can cost the sidecar: the signing headers are judged
 * before any body is read, each route bounds its body, a request must arrive within the request
 * timeout, open connections are capped, and each refusal is one line in the log.
 */
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequest } from '../../shared/request-signing'
import { startSidecar, type SidecarHandle } from '../../sidecar/index'
import { freePort } from '../setup/ports'
import { eventually, FAKE_WEB, instanceSecret, makeDataDir, SidecarClient, testConfig } from './helpers'

const UPDATER_PORT = await freePort()
const MAX_CONNECTIONS = 6
const REQUEST_TIMEOUT_MS = 1500

/** A raw connection, to send requests in pieces and see exactly what comes back, and when. */
interface Raw {
  socket: Socket
  received: () => string
  closed: Promise<void>
  send: (text: string) => void
}

function openRaw(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let data = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => (data += chunk))
    socket.on('error', () => {})
    const closed = new Promise<void>(done => socket.once('close', () => done()))
    socket.once('connect', () => resolve({ socket, received: () => data, closed, send: text => socket.write(text) }))
    socket.once('error', reject)
  })
}

function head(method: string, path: string, headers: Record<string, string>): string {
  return `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`
}

describe('sidecar request limits', () => {
  let dataDir: string
  let secret: string
  let sidecar: SidecarHandle
  let client: SidecarClient
  const logs: string[] = []
  const open: Raw[] = []

  beforeAll(async () => {
    dataDir = makeDataDir()
    secret = instanceSecret(dataDir)
    sidecar = await startSidecar(testConfig(dataDir, UPDATER_PORT), {
      webEntry: FAKE_WEB,
      log: line => logs.push(line),
      limits: { requestTimeoutMs: REQUEST_TIMEOUT_MS, headersTimeoutMs: REQUEST_TIMEOUT_MS, maxConnections: MAX_CONNECTIONS, checkIntervalMs: 200 },
    })
    client = new SidecarClient(sidecar.url, secret)
  })

  afterAll(async () => {
    for (const raw of open) raw.socket.destroy()
    await sidecar?.close()
  })

  async function raw(): Promise<Raw> {
    const connection = await openRaw(UPDATER_PORT)
    open.push(connection)
    return connection
  }

  it.each([
    ['no signature', {}, 'missing request signature'],
    ['a stale timestamp', { 'X-Owlat-Timestamp': String(Date.now() - 10 * 60_000), 'X-Owlat-Signature': 'a'.repeat(64) }, 'stale request signature (check the clocks)'],
    ['a malformed signature', { 'X-Owlat-Timestamp': String(Date.now()), 'X-Owlat-Signature': 'A'.repeat(64) }, 'malformed request signature (64 lowercase hex characters)'],
  ])('answers 401 to a request with %s before it sends a byte of its 2 MB body', async (_, headers, reason) => {
    const connection = await raw()
    connection.send(head('POST', '/v1/jobs', { 'Content-Type': 'application/json', 'Content-Length': String(2 * 1024 * 1024), ...headers }))
    await eventually(async () => connection.received().includes('\r\n\r\n{'), 'the answer to arrive')
    expect(connection.received()).toMatch(/^HTTP\/1\.1 401 /)
    expect(connection.received()).toContain(JSON.stringify({ error: reason }))
    connection.socket.destroy()
  })

  it('takes no body on any route but POST /v1/jobs', async () => {
    const path = '/v1/jobs?limit=1'
    // Correctly signed, body included: the route still takes none.
    const signed = signRequest({ secret, method: 'GET', path, body: 'x'.repeat(10) })
    const connection = await raw()
    connection.send(`${head('GET', path, { ...signed, 'Content-Length': '10' })}${'x'.repeat(10)}`)
    await eventually(async () => connection.received().includes('\r\n\r\n{'), 'the answer to arrive')
    expect(connection.received()).toMatch(/^HTTP\/1\.1 413 /)
    expect(connection.received()).toContain(JSON.stringify({ error: 'this route takes no request body' }))
  })

  it('cuts off a signed request whose body does not arrive within the request timeout', async () => {
    const body = JSON.stringify({ padding: 'x'.repeat(1000) })
    const signed = signRequest({ secret, method: 'POST', path: '/v1/jobs', body })
    const connection = await raw()
    const sentAt = Date.now()
    connection.send(head('POST', '/v1/jobs', { ...signed, 'Content-Type': 'application/json', 'Content-Length': String(body.length) }))
    connection.send(body.slice(0, 10))
    await connection.closed
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100)
    expect(logs.some(line => /^refused /.test(line) && /(ERR_HTTP_REQUEST_TIMEOUT|closed the connection before the request body was complete)/.test(line))).toBe(true)
  })

  it('caps open connections, and takes new ones once others close', async () => {
    for (const connection of open.splice(0)) connection.socket.destroy()
    await new Promise(resolve => setTimeout(resolve, 300))
    const before = logs.length
    const attempts: Raw[] = []
    for (let i = 0; i < MAX_CONNECTIONS + 3; i++) attempts.push(await raw())
    await new Promise(resolve => setTimeout(resolve, 500))
    const dropped = attempts.filter(c => c.socket.destroyed || c.socket.readyState === 'closed')
    const kept = attempts.filter(c => !dropped.includes(c))
    // Those beyond the cap are closed at once, without an answer; the client's own pooled connection may hold a slot.
    expect(dropped.length).toBeGreaterThanOrEqual(3)
    expect(kept.length).toBeLessThanOrEqual(MAX_CONNECTIONS)
    expect(dropped.every(c => c.received() === '')).toBe(true)
    const refusals = logs.slice(before).filter(line => line.startsWith('refused a connection'))
    expect(refusals).toHaveLength(dropped.length)
    expect(refusals[0]).toBe(`refused a connection from 127.0.0.1: ${MAX_CONNECTIONS} are open already`)
    for (const connection of kept) connection.socket.destroy()
    await Promise.all(kept.map(c => c.closed))
    await eventually(async () => (await client.listJobs(1)) !== undefined, 'a new connection to be served')
  })

  it('logs each refused request as one line, never a stack trace', async () => {
    const before = logs.length
    const connections = await Promise.all(Array.from({ length: 4 }, () => raw()))
    for (const connection of connections) {
      const body = '{"x":1}'
      connection.send(head('POST', '/v1/jobs', { ...signRequest({ secret, method: 'POST', path: '/v1/jobs', body }), 'Content-Length': '100' }))
      connection.send(body)
    }
    await new Promise(resolve => setTimeout(resolve, 200))
    for (const connection of connections) connection.socket.destroy()
    await eventually(async () => logs.slice(before).filter(line => line.includes('closed the connection before the request body was complete')).length === 4, 'four refusals in the log')
    const lines = logs.slice(before)
    expect(lines.every(line => !line.includes('\n'))).toBe(true)
    expect(lines.join('\n')).not.toMatch(/\bat .*\.ts:\d+/)
    expect(lines.filter(line => line.includes('closed the connection'))[0]).toMatch(/^refused POST "\/v1\/jobs" from 127\.0\.0\.1: 400 the client closed the connection before the request body was complete$/)
  })
})
