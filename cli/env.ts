/**
 * The CLI's configuration: the environment, over the compose project's `.env` (`OWLAT_DIR/.env`),
 * which is where the installer writes the instance secret and the updater URL. Variables set in
 * the environment win, so an operator can override one value for one command.
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseEnv } from 'node:util'
import { loadConfig, type OwlatConfig } from '../shared/config'
import { CliError } from './errors'

const DEFAULT_OWLAT_DIR = '/opt/owlat'

export function dotenvPath(env: NodeJS.ProcessEnv): string {
  return join(resolve(env.OWLAT_DIR || DEFAULT_OWLAT_DIR), '.env')
}

/** The variables of a dotenv file; an empty object when there is none. */
export function readDotenv(path: string): Record<string, string> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  }
  catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return {}
    throw new CliError(`cannot read ${path} (${code ?? 'error'}): run as a user who can, or set OWLAT_DIR to another project folder`)
  }
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(parseEnv(text))) {
    if (value !== undefined) out[key] = value
  }
  return out
}

/** `OWLAT_DIR/.env` under the environment. */
export function cliEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...readDotenv(dotenvPath(env)), ...env }
}

export interface CliConfig {
  env: NodeJS.ProcessEnv
  config: OwlatConfig
}

export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const merged = cliEnvironment(env)
  try {
    return { env: merged, config: loadConfig(merged) }
  }
  catch (err) {
    throw new CliError(`${(err as Error).message}: fix the environment or ${dotenvPath(env)}`)
  }
}

/** The instance secret, as a CLI error when there is none. */
export function instanceSecret(config: OwlatConfig): string {
  try {
    return config.instanceSecret()
  }
  catch (err) {
    throw new CliError((err as Error).message)
  }
}

/** Every configured trusted key (OWLAT_RELEASE_PUBLIC_KEYS and the pinned one). */
export function releasePublicKeys(config: OwlatConfig): string[] {
  try {
    return config.releasePublicKeys()
  }
  catch (err) {
    throw new CliError((err as Error).message)
  }
}

export function releasePublicKey(config: OwlatConfig): string {
  try {
    return config.releasePublicKey()
  }
  catch (err) {
    throw new CliError((err as Error).message)
  }
}
