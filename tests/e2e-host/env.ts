/** Values shared by playwright.host.config.ts, its start script and the host app's spec. */
import { fileURLToPath } from 'node:url'
import { freePortSync } from '../setup/ports'

export const ROOT_DIR = fileURLToPath(new URL('../..', import.meta.url))
/** The fixture host app and its build (`nuxt build tests/fixtures/host`). */
export const HOST_APP = 'tests/fixtures/host'
export const HOST_ENTRY = fileURLToPath(new URL('../fixtures/host/.output/server/index.mjs', import.meta.url))
/** Relative to ROOT_DIR, where the launcher runs. */
export const DATA_DIR = '.tmp/e2e-host-data'

/** Free ports, picked once by the runner when it loads the config (its workers inherit them). */
export const WEB_PORT = Number(process.env.OWLAT_E2E_HOST_WEB_PORT ||= String(freePortSync()))
export const UPDATER_PORT = Number(process.env.OWLAT_E2E_HOST_UPDATER_PORT ||= String(freePortSync()))
/** The SMTP sink the spec runs, which the host's notifications are mailed to. */
export const SMTP_PORT = Number(process.env.OWLAT_E2E_HOST_SMTP_PORT ||= String(freePortSync()))
export const BASE_URL = `http://127.0.0.1:${WEB_PORT}`

/** The host's own users (tests/fixtures/host/server/utils/acme-users.ts): an owner and a staff member. */
export const OWNER = { email: 'ada@acme.test', password: 'ada-owner-password', name: 'Ada' } as const
export const STAFF = { email: 'max@acme.test', password: 'max-staff-password', name: 'Max' } as const

export const INSTALLED_VERSION = '1.2.2'
export const STABLE_TARGET = '1.3.1'
