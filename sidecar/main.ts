/** Process entry of the updater sidecar: `node --import tsx sidecar/main.ts`. */
import { loadConfig } from '../shared/config'
import { startSidecar } from './index'

function fail(err: unknown): never {
  process.stderr.write(`owlat updater: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
}

// loadConfig throws synchronously on a bad environment: keep it inside the promise chain.
const handle = await Promise.resolve().then(() => startSidecar(loadConfig(process.env))).catch(fail)

let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  try {
    await handle.close()
    process.exit(0)
  }
  catch (err) {
    fail(err)
  }
}

process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
