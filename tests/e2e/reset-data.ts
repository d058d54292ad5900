/**
 * Runs as the first half of the webServer command. Playwright starts the webServer before
 * globalSetup, so wiping the data dir there would pull it from under a running server.
 */
import { rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { DATA_DIR, ROOT_DIR } from './env'

rmSync(resolve(ROOT_DIR, DATA_DIR), { recursive: true, force: true })
