/** Values shared by playwright.config.ts, the global setup and the specs. */
import { fileURLToPath } from 'node:url'
import { freePortSync } from '../setup/ports'

export const ROOT_DIR = fileURLToPath(new URL('../..', import.meta.url))
/** Relative to ROOT_DIR, where the launcher runs. */
export const DATA_DIR = '.tmp/e2e-data'

/**
 * Free ports, picked once by the runner when it loads the config; the workers it forks inherit the
 * environment, so every process agrees on them.
 */
export const WEB_PORT = Number(process.env.OWLAT_E2E_WEB_PORT ||= String(freePortSync()))
export const UPDATER_PORT = Number(process.env.OWLAT_E2E_UPDATER_PORT ||= String(freePortSync()))
export const BASE_URL = `http://127.0.0.1:${WEB_PORT}`

export const ADMIN = { email: 'admin@example.test', password: 'e2e-admin-password-1' } as const
export const MEMBER = { email: 'member@example.test', password: 'e2e-member-password-1' } as const
/** A second platform admin, who watches the first one's runs from another browser. */
export const OTHER_ADMIN = { email: 'second-admin@example.test', password: 'e2e-admin-password-2' } as const

/**
 * The demo instance starts on this version; the demo releases add 1.2.3, 1.3.0, 1.3.1 (which
 * installs only over 1.3.0: the path from 1.2.2 is 1.3.0 → 1.3.1) and a broken 1.4.0-beta.1.
 */
export const INSTALLED_VERSION = '1.2.2'
export const STABLE_TARGET = '1.3.1'
/** The required upgrade stop on the way to STABLE_TARGET. */
export const UPGRADE_STOP = '1.3.0'
export const BROKEN_BETA = '1.4.0-beta.1'
/** The demo's beta that the watch window catches; the global setup leaves it out (see there). */
export const LATE_FAILING_BETA = '1.4.0-beta.2'
/** The version rolled back to by hand through the dialog: the one the instance started on. */
export const ROLLBACK_TARGET = '1.2.2'
/**
 * Added by the global setup (signed with the demo key): an older release, and one between it and
 * the rest that migrated data with a rollback floor of itself. Rolling back to OLD_RELEASE is
 * therefore refused with a reason, while ROLLBACK_TARGET, above the floor, stays possible.
 */
export const OLD_RELEASE = '1.1.0'
export const MIGRATING_RELEASE = '1.2.0'

/** The two screens issue 13 checks the page on: a laptop and a phone. */
export const DESKTOP = { width: 1440, height: 900 } as const
export const PHONE = { width: 390, height: 844 } as const
export const VIEWPORTS = [['1440×900', DESKTOP], ['390×844', PHONE]] as const
