/**
 * Stand-in for tecnativa/docker-socket-proxy (cannot be pulled here): the engine's API on
 * tcp://docker-socket-proxy:2375, forwarded byte for byte to the mounted /var/run/docker.sock
 * (hijacked exec and attach streams included). Unlike the real proxy it does not filter which
 * API sections may be used; it stands in for the network path, not for the restriction.
 */
import { connect, createServer } from 'node:net'

const SOCKET = process.env.DOCKER_SOCKET || '/var/run/docker.sock'
const PORT = 2375

createServer((client) => {
  const engine = connect(SOCKET)
  client.pipe(engine).pipe(client)
  const close = () => {
    client.destroy()
    engine.destroy()
  }
  client.on('error', close)
  engine.on('error', close)
}).listen(PORT, '0.0.0.0', () => console.log(`socket proxy stand-in: :${PORT} → ${SOCKET}`))

// As pid 1 nothing ends it on SIGTERM by default: without this every stop waits out the grace period.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
