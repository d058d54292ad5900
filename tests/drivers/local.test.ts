/**
 * The driver contract against the `local` driver: the web (tests/fixtures/fake-web.mjs) runs as
 * a child process of a sidecar on a bootstrapped demo instance at 1.2.2; 1.4.0-beta.1's web never
 * becomes healthy, and its verify waits the 3 s the tests allow; 1.4.0-beta.2's turns unhealthy
 * 15 s after it starts, inside a 25 s watch window.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { loadConfig } from '../../shared/config'
import { isAlive, waitPortFree } from '../../sidecar/drivers/processes'
import { stackPaths } from '../../sidecar/drivers/local'
import { startSidecar } from '../../sidecar/index'
import { freePort } from '../setup/ports'
import {
  eventually, FAKE_WEB, instanceSecret, jobRequest, makeDataDir, sidecarEnv, SidecarClient, WEB_PORT, webVersion,
} from '../sidecar/helpers'
import { describeDriverContract, type HarnessStack } from './contract'

const UPDATER_PORT = await freePort()

function stackOf(dataDir: string, client: SidecarClient, close: () => Promise<void>): HarnessStack {
  const paths = stackPaths(dataDir)
  const webPid = () => Number(readFileSync(join(dataDir, 'updater', 'web.pid'), 'utf8'))
  return {
    client,
    request: (version, overrides) => jobRequest(dataDir, version, overrides),
    running: () => webVersion(instanceSecret(dataDir)),
    compose: () => readFileSync(paths.current, 'utf8'),
    sideFiles: () => ({ next: existsSync(paths.next), prev: existsSync(paths.prev) }),
    identity: async () => String(webPid()),
    // The copy's folder, and the web the rehearsal started (its pid is in the recreate step's log).
    rehearsalLeft: async (job) => {
      const left: string[] = []
      const copy = join(dataDir, 'rehearsals', job.id)
      if (existsSync(copy)) left.push(copy)
      const pid = Number(/\(pid (\d+)\)/.exec(job.steps.find(st => st.name === 'recreate')?.log.join('\n') ?? '')?.[1] ?? 0)
      if (pid > 0 && isAlive(pid)) left.push(`web pid ${pid}`)
      return left
    },
    // A stopped process keeps its port and pid but answers nothing: the supervisor sees it alive.
    disturb: async () => {
      const pid = webPid()
      process.kill(pid, 'SIGSTOP')
      return async () => {
        process.kill(pid, 'SIGCONT')
      }
    },
    close: async () => {
      await close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

describeDriverContract({
  name: 'local',
  installed: '1.2.2',
  good: '1.3.0',
  broken: '1.4.0-beta.1',
  brokenSays: 'fake web 1.4.0-beta.1: health check failed (OWLAT_DEMO_FAULT=unhealthy)',
  // The demo's release that turns unhealthy 15 s after it starts (scripts/bootstrap.ts).
  fading: '1.4.0-beta.2',
  fadingWatchMs: 25_000,
  slow: '1.4.0-beta.1',
  // afterKill checks the beta's web, which exists only once recreate has started it.
  killAfter: 'recreate',
  jobTimeoutMs: 30_000,

  async start(env = {}) {
    const dataDir = makeDataDir()
    const sidecar = await startSidecar(loadConfig({ ...sidecarEnv(dataDir, UPDATER_PORT), ...env }), { webEntry: FAKE_WEB, log: () => {} })
    const client = new SidecarClient(sidecar.url, instanceSecret(dataDir))
    await eventually(async () => (await client.health()).services[0]?.health === 'healthy', 'web healthy at start')
    return { ...stackOf(dataDir, client, () => sidecar.close()), capabilities: sidecar.capabilities }
  },

  async startForProcess() {
    const dataDir = makeDataDir()
    const client = new SidecarClient(`http://127.0.0.1:${UPDATER_PORT}`, instanceSecret(dataDir))
    return { ...stackOf(dataDir, client, async () => {}), env: sidecarEnv(dataDir, UPDATER_PORT) }
  },

  // The dead sidecar's web is still running; the next one stops it before starting its own.
  async afterKill(stack) {
    const orphan = Number(readFileSync(join(stack.env.OWLAT_DATA_DIR!, 'updater', 'web.pid'), 'utf8'))
    expect(isAlive(orphan)).toBe(true)
    return async () => {
      expect(isAlive(orphan)).toBe(false)
      // A clean stop takes the web down with it.
      await waitPortFree(WEB_PORT, '127.0.0.1', 1000)
    }
  },
})
