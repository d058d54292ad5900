/**
 * The bug-report bundle (seeds/maintenance-and-updates.txt, "Reporting an update bug"): the
 * doctor output, `ps` of the stack, the last log lines per service, the compose file and the
 * last runs with their logs, as one `.tar.gz`. Every secret is masked before anything is
 * written: each known secret value wherever it appears, the value of every `KEY=value` or
 * `KEY: value` whose key looks like a secret, and the password of any URL. Node only.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { execa } from 'execa'
import { MASKED_KEY } from './checks/secrets'

export const MASK = '***masked***'
/** Shorter values are too common to replace wherever they appear (`yes`, `3000`). */
const MIN_MASKED_LENGTH = 6
export const BUNDLE_LOG_LINES = 500
export const BUNDLE_RUNS = 10

/** The values of every secret-looking key in `envs`, with `extra` (instance secret, admin key, session password). */
export function secretValues(envs: ReadonlyArray<Record<string, string | undefined>>, extra: ReadonlyArray<string | null | undefined> = []): string[] {
  const values = new Set<string>()
  for (const env of envs) {
    for (const [key, value] of Object.entries(env)) if (value && MASKED_KEY.test(key)) values.add(value.trim())
  }
  for (const value of extra) if (value) values.add(value.trim())
  return [...values].filter(v => v.length >= MIN_MASKED_LENGTH).sort((a, b) => b.length - a.length)
}

const KEY_VALUE = /\b([A-Za-z0-9_]+)(["']?[ \t]*[:=][ \t]*["']?)([^\s"',}\]]+)/g
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)(@)/gi

export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) out = out.split(secret).join(MASK)
  out = out.replace(KEY_VALUE, (match, key: string, sep: string, value: string) => MASKED_KEY.test(key) && value !== MASK ? `${key}${sep}${MASK}` : match)
  return out.replace(URL_PASSWORD, (_, head: string, _pw: string, at: string) => `${head}${MASK}${at}`)
}

/** Writes `files` (path in the archive → text), masked, as a gzipped tar at `file`. */
export async function writeBundle(file: string, files: Record<string, string>, secrets: readonly string[]): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'owlat-bundle-'))
  const top = 'owlat-bundle'
  try {
    for (const [name, text] of Object.entries(files)) {
      const path = resolve(root, top, name)
      if (!path.startsWith(join(root, top))) throw new Error(`bundle entry ${name} leaves the bundle`)
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, maskSecrets(text, secrets), { mode: 0o600 })
    }
    const target = resolve(file)
    mkdirSync(dirname(target), { recursive: true })
    await execa('tar', ['-czf', target, '-C', root, top])
  }
  finally {
    rmSync(root, { recursive: true, force: true })
  }
}

/** The same archive as bytes, for an HTTP answer. */
export async function bundleBytes(files: Record<string, string>, secrets: readonly string[]): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'owlat-bundle-out-'))
  try {
    const file = join(dir, 'bundle.tar.gz')
    await writeBundle(file, files, secrets)
    return readFileSync(file)
  }
  finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
