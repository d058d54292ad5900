/**
 * Free loopback ports for the suites: the kernel picks one (listen on 0), it is released and handed
 * to the server under test. Nothing depends on a fixed port, so another program on the machine
 * cannot break a run.
 */
import { execFileSync } from 'node:child_process'
import { createServer } from 'node:net'

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))))
    })
  })
}

/** The same, synchronously, for configuration files that cannot await (playwright.config.ts). */
export function freePortSync(host = '127.0.0.1'): number {
  const script = `const s=require('node:net').createServer();s.listen(0,${JSON.stringify(host)},()=>{process.stdout.write(String(s.address().port));s.close()})`
  return Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))
}
