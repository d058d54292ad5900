/**
 * Stand-in for `redis-server` (the redis image cannot be pulled here): answers the RESP commands
 * the stack's healthcheck and clients use to see it is up (PING, ECHO, QUIT) and refuses the rest.
 * It keeps nothing; its volume only proves the data volume is carried across updates and backed up.
 * Arguments (`--appendonly yes` …) are accepted and ignored.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'

const PORT = 6379
mkdirSync('/data', { recursive: true })
writeFileSync('/data/stand-in', `redis stand-in, started with: ${process.argv.slice(2).join(' ')}\n`)

/** Splits a RESP array (`*N\r\n$len\r\nword\r\n…`) or an inline command into words. */
function parse(buffer) {
  const text = buffer.toString('utf8')
  if (!text.startsWith('*')) return text.trim().split(/\s+/)
  return text.split('\r\n').filter((_, i) => i > 0 && i % 2 === 0)
}

createServer((socket) => {
  socket.on('data', (chunk) => {
    const [command = '', ...args] = parse(chunk)
    switch (command.toUpperCase()) {
      case 'PING': return socket.write(args.length ? `$${Buffer.byteLength(args[0])}\r\n${args[0]}\r\n` : '+PONG\r\n')
      case 'ECHO': return socket.write(`$${Buffer.byteLength(args[0] ?? '')}\r\n${args[0] ?? ''}\r\n`)
      case 'QUIT': return socket.end('+OK\r\n')
      default: return socket.write(`-ERR the redis stand-in does not implement ${command}\r\n`)
    }
  })
  socket.on('error', () => {})
}).listen(PORT, '0.0.0.0', () => console.log(`redis stand-in listening on :${PORT}`))

// As pid 1 nothing ends it on SIGTERM by default: without this every stop waits out the grace period.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
