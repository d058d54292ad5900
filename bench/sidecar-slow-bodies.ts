/**
 * What slow, unsigned request bodies cost the updater (issue 21's attack: 300 of them once took
 * it from 115 MB to 686 MB): the updater runs as its own process on a throwaway data dir, N
 * connections each announce a 2 MB `POST /v1/jobs` without a signature and trickle a byte a
 * second. Prints the updater's resident memory before and during, and what the clients got.
 *
 *   node --import tsx bench/sidecar-slow-bodies.ts [connections]
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bootstrapDataDir } from '../scripts/bootstrap'
import { freePort } from '../tests/setup/ports'

const connections = Number(process.argv[2] ?? 300)
if (!Number.isInteger(connections) || connections < 1) {
  process.stderr.write('usage: node --import tsx bench/sidecar-slow-bodies.ts [connections ≥ 1]\n')
  process.exit(2)
}

const root = fileURLToPath(new URL('..', import.meta.url))
const dataDir = mkdtempSync(join(tmpdir(), 'owlat-bench-bodies-'))
bootstrapDataDir(dataDir)
const updaterPort = await freePort()
const child = spawn(process.execPath, ['--import', 'tsx', 'sidecar/main.ts'], {
  cwd: root,
  env: { ...process.env, OWLAT_DATA_DIR: dataDir, OWLAT_UPDATER_PORT: String(updaterPort), PORT: String(await freePort()), OWLAT_WEB_ENTRY: join(root, 'tests/fixtures/fake-web.mjs') },
  stdio: ['ignore', 'pipe', 'inherit'],
})
let logLines = 0
child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (logLines += chunk.split('\n').filter(Boolean).length))

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
const rssMb = () => {
  const line = readFileSync(`/proc/${child.pid}/status`, 'utf8').split('\n').find(l => l.startsWith('VmRSS:'))!
  return Number(line.split(/\s+/)[1]) / 1024
}

for (let i = 0; ; i++) {
  const up = await fetch(`http://127.0.0.1:${updaterPort}/v1/health`).then(() => true, () => false)
  if (up) break
  if (i > 300) throw new Error('the updater did not start')
  await sleep(100)
}
await sleep(1000)
const before = rssMb()

const head = `POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`
const sockets: Socket[] = []
const answers = new Map<string, number>()
let closed = 0
for (let i = 0; i < connections; i++) {
  const socket = connect(updaterPort, '127.0.0.1')
  let first = true
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    if (!first) return
    first = false
    const status = /^HTTP\/1\.1 (\d+)/.exec(chunk)?.[1] ?? 'other'
    answers.set(status, (answers.get(status) ?? 0) + 1)
  })
  socket.on('error', () => {})
  socket.on('close', () => closed++)
  socket.once('connect', () => socket.write(head))
  sockets.push(socket)
}
const trickle = setInterval(() => {
  for (const socket of sockets) if (socket.writable) socket.write('x')
}, 1000)

let peak = before
for (let s = 0; s < 10; s++) {
  await sleep(1000)
  peak = Math.max(peak, rssMb())
}
clearInterval(trickle)
for (const socket of sockets) socket.destroy()

console.log(`connections: ${connections}, each announcing a 2 MB body and sending a byte a second for 10 s`)
console.log(`updater RSS: ${before.toFixed(1)} MB before, ${peak.toFixed(1)} MB at most during (+${(peak - before).toFixed(1)} MB)`)
console.log(`answers: ${[...answers].map(([status, n]) => `${n}× ${status}`).join(', ') || 'none'}; closed by then: ${closed}`)
console.log(`updater log lines: ${logLines}`)

child.kill('SIGTERM')
await new Promise(resolve => child.once('exit', resolve))
rmSync(dataDir, { recursive: true, force: true })
