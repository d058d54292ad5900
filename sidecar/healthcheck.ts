/**
 * The updater image's HEALTHCHECK: a signed `GET /v1/health` on the updater's own port, so
 * "healthy" means the API answers and accepts the instance secret, not just that a port is open.
 * Exit 0 when it answers 200, else 1 with the reason on stderr (the engine keeps it in the health log).
 */
import { loadConfig } from '../shared/config'
import { signRequest } from '../shared/request-signing'

const PATH = '/v1/health'

try {
  const config = loadConfig(process.env)
  const headers = signRequest({ secret: config.instanceSecret(), method: 'GET', path: PATH })
  const res = await fetch(`http://127.0.0.1:${config.updaterPort}${PATH}`, { headers, signal: AbortSignal.timeout(4000) })
  await res.body?.cancel()
  if (res.status !== 200) throw new Error(`${PATH} answered ${res.status}`)
}
catch (err) {
  process.stderr.write(`updater unhealthy: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
}
