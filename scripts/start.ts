/**
 * `npm start`: the product on its embedded defaults. Prepares the data dir on first start,
 * then runs the updater sidecar (local driver), which starts and supervises the web server.
 * Ctrl-C stops everything it started.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { consola } from 'consola'
import { loadConfig, type OwlatConfig } from '../shared/config'
import { openWebStore } from '../server/utils/store/open'
import { openSqliteStore } from '../server/utils/store/sqlite'
import { startSidecar } from '../sidecar/index'
import { bootstrapDataDir } from './bootstrap'

const DEFAULT_ADMIN_EMAIL = 'admin@owlat.local'

async function waitForWeb(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      if (res.ok) return true
    }
    catch {
      // not listening yet
    }
    await new Promise(r => setTimeout(r, 250))
  }
  return false
}

/** The platform admins the web's store has (a second start names them), or none when it cannot tell. */
async function platformAdmins(config: OwlatConfig): Promise<string[]> {
  const opened = openWebStore(config)
  if (!opened) return []
  try {
    return (await opened.store.listUsers()).filter(u => u.role === 'platform-admin').slice(0, 5).map(u => u.email)
  }
  catch {
    return []
  }
  finally {
    await opened.store.close()
  }
}

/** What the box says about signing in: the generated password once, afterwards who the admins are. */
function signInLines(generatedPassword: string | null, admins: string[]): string[] {
  if (generatedPassword) return [`First admin (shown once): ${process.env.OWLAT_ADMIN_EMAIL} / ${generatedPassword}`]
  const email = admins[0] ?? process.env.OWLAT_ADMIN_EMAIL ?? null
  if (!email) return ['Sign in with your platform admin account.']
  const others = admins.length > 1 ? ` (other platform admins: ${admins.slice(1).join(', ')})` : ''
  return [
    `Sign in as ${email}${others}.`,
    `Lost the password? npm run owlat -- admin reset-password ${email}`,
  ]
}

async function main(): Promise<void> {
  const config = loadConfig(process.env)
  const demo = !process.env.OWLAT_RELEASE_PUBLIC_KEY && !process.env.OWLAT_RELEASE_DIR
  bootstrapDataDir(config.dataDir, { releaseDir: config.releaseDir, demo })

  // The first admin: the web seeds it from these variables when it does not exist yet.
  let generatedPassword: string | null = null
  const webStore = join(config.dataDir, 'web.sqlite')
  const firstStart = !existsSync(webStore)
  // A corrupt store stops here, naming the file, instead of a web that answers 500 to everything.
  // (The updater's journal is checked the same way when the updater opens it.)
  if (!firstStart && !config.convex) await openSqliteStore(webStore).close()
  if (firstStart && !process.env.OWLAT_ADMIN_PASSWORD) {
    generatedPassword = randomBytes(12).toString('base64url')
    process.env.OWLAT_ADMIN_EMAIL ||= DEFAULT_ADMIN_EMAIL
    process.env.OWLAT_ADMIN_PASSWORD = generatedPassword
  }

  const sidecar = await startSidecar(config, { log: line => consola.log(line) })
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    consola.info(`${signal}: stopping the updater and the web server…`)
    await sidecar.close()
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))

  const webUrl = `http://127.0.0.1:${config.port}`
  if (!await waitForWeb(`${webUrl}/api/healthz`, 120_000)) {
    consola.warn(`the web server did not answer on ${webUrl} yet; the updater keeps trying (see the log above)`)
    return
  }
  consola.box([
    `Owlat is running: ${webUrl}/settings/system`,
    `Updater sidecar: ${sidecar.url}`,
    ...signInLines(generatedPassword, generatedPassword ? [] : await platformAdmins(config)),
    `Data: ${config.dataDir}    Stop: Ctrl-C`,
  ].join('\n'))
}

main().catch((error: unknown) => {
  consola.error(error instanceof Error ? error.message : String(error))
  process.exit(1)
})
