/**
 * The first half of the webServer command: builds the fixture host app when it has no build yet
 * (`npm test` builds it beforehand), and wipes the data dir the launcher then bootstraps.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { DATA_DIR, HOST_APP, HOST_ENTRY, ROOT_DIR } from './env'

if (!existsSync(HOST_ENTRY)) execFileSync('npx', ['nuxt', 'build', HOST_APP], { cwd: ROOT_DIR, stdio: 'inherit' })
rmSync(resolve(ROOT_DIR, DATA_DIR), { recursive: true, force: true })
