/** Values shared by playwright.stack.config.ts, its global setup and the spec. */
import { freePortSync } from '../setup/ports'

/**
 * The web's published port, picked once by the runner when it loads the config; the global setup
 * installs the stack on it and the workers inherit it, so the page reloads onto the same address
 * after the web container is recreated.
 */
export const STACK_HTTP_PORT = Number(process.env.OWLAT_E2E_STACK_PORT ||= String(freePortSync()))
export const STACK_BASE_URL = `http://127.0.0.1:${STACK_HTTP_PORT}`
export const INSTALLED_VERSION = '1.2.2'
export const TARGET_VERSION = '1.3.0'
