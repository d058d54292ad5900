/**
 * Configuration from the environment, read the same way by the web, the sidecar and the CLI
 * (DESIGN.md, Configuration). Node only.
 */
import { existsSync, readFileSync } from 'node:fs'
import { isIPv4, isIPv6 } from 'node:net'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { smtpUrlSchema, webhookUrlSchema } from './notifications'
import { splitPemKeys } from './release-index'
import { driverNameSchema } from './schemas/common'

const port = z.coerce.number().int().min(1).max(65535)
const positiveMs = z.coerce.number().int().min(100)
const emptyAsUnset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value)

/** `https://owlat.example.com[, …]`: each an http(s) origin, nothing after the host and port. */
const originsSchema = z.string().transform((value, ctx) => {
  const origins: string[] = []
  for (const item of value.split(',').map(s => s.trim()).filter(Boolean)) {
    let url: URL | null = null
    try {
      url = new URL(item)
    }
    catch {
      // reported below
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || `${url.origin}/` !== new URL('/', url).href || item.replace(/\/$/, '') !== url.origin) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not an origin such as https://owlat.example.com` })
      return z.NEVER
    }
    origins.push(url.origin)
  }
  return origins
})

/** `10.0.0.1, 172.16.0.0/12, ::1`: addresses or subnets of proxies whose X-Forwarded-For counts. */
const trustedProxiesSchema = z.string().transform((value, ctx) => {
  const list: { address: string, prefix: number | null, family: 'ipv4' | 'ipv6' }[] = []
  for (const item of value.split(',').map(s => s.trim()).filter(Boolean)) {
    const [address = '', prefixText, ...rest] = item.split('/')
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null
    const prefix = prefixText === undefined ? null : Number(prefixText)
    const maxPrefix = family === 'ipv4' ? 32 : 128
    if (!family || rest.length > 0 || (prefix !== null && (!Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix || !/^\d+$/.test(prefixText!)))) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not an IP address or subnet such as 10.0.0.0/8` })
      return z.NEVER
    }
    list.push({ address, prefix, family })
  }
  return list
})

const envSchema = z.object({
  PORT: port.default(3000),
  OWLAT_UPDATER_PORT: port.default(3200),
  // Loopback by default; in a compose stack the web reaches the updater over the project network.
  OWLAT_UPDATER_HOST: z.string().min(1).default('127.0.0.1'),
  OWLAT_UPDATER_URL: z.url().optional(),
  OWLAT_INSTANCE_SECRET: z.string().min(16, 'OWLAT_INSTANCE_SECRET must be at least 16 characters').optional(),
  OWLAT_DATA_DIR: z.string().min(1).default('.data'),
  OWLAT_DRIVER: driverNameSchema.default('local'),
  OWLAT_DIR: z.string().min(1).default('/opt/owlat'),
  OWLAT_RELEASE_SOURCE: z.enum(['directory', 'github']).default('directory'),
  OWLAT_RELEASE_DIR: z.string().min(1).optional(),
  OWLAT_RELEASE_PUBLIC_KEY: z.string().min(1).optional(),
  // Several PEM keys, one after another (key rotation); each counts as the pinned key.
  OWLAT_RELEASE_PUBLIC_KEYS: z.preprocess(emptyAsUnset, z.string().min(1).optional()),
  OWLAT_GITHUB_REPO: z.preprocess(emptyAsUnset, z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'must be owner/name').optional()),
  OWLAT_GITHUB_API_URL: z.preprocess(emptyAsUnset, z.url().default('https://api.github.com')),
  OWLAT_GITHUB_TOKEN: z.preprocess(emptyAsUnset, z.string().optional()),
  // At least 15 minutes: more often would only spend GitHub's rate limit on unchanged answers.
  OWLAT_RELEASE_CHECK_INTERVAL_MS: z.coerce.number().int().min(15 * 60_000).default(6 * 60 * 60_000),
  // Added on top of the interval so instances installed together do not all ask at the same minute.
  OWLAT_RELEASE_CHECK_JITTER_MS: z.coerce.number().int().min(0).default(30 * 60_000),
  OWLAT_VERIFY_TIMEOUT_MS: positiveMs.default(60_000),
  // The largest offline release bundle the page's upload and the updater take (its images included).
  OWLAT_BUNDLE_MAX_BYTES: z.coerce.number().int().min(1024 * 1024).default(8 * 1024 ** 3),
  // The watch window after verify; 0 leaves one sample. At most an hour: a run holds the lock meanwhile.
  OWLAT_WATCH_MS: z.coerce.number().int().min(0).max(60 * 60_000, 'OWLAT_WATCH_MS is at most an hour').default(60_000),
  OWLAT_RUN_LEASE_MS: positiveMs.default(15 * 60_000),
  // Empty counts as unset: compose files pass `${OWLAT_CONVEX_URL:-}` through.
  OWLAT_CONVEX_URL: z.preprocess(emptyAsUnset, z.url().optional()),
  OWLAT_CONVEX_ADMIN_KEY: z.preprocess(emptyAsUnset, z.string().optional()),
  // Where browsers reach the web, when a proxy stands in front (its own address otherwise).
  OWLAT_ORIGIN: z.preprocess(emptyAsUnset, originsSchema.optional()),
  // Sign-in throttling (the standalone app's sign-in; README, Security).
  OWLAT_SIGNIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  OWLAT_SIGNIN_ADDRESS_MAX_FAILURES: z.coerce.number().int().min(1).default(20),
  OWLAT_SIGNIN_ACCOUNT_MAX_FAILURES: z.coerce.number().int().min(1).default(50),
  OWLAT_SIGNIN_WINDOW_MS: positiveMs.default(15 * 60_000),
  // Bounded, so no one can lock an account out for good.
  OWLAT_SIGNIN_LOCK_MS: positiveMs.max(24 * 60 * 60_000, 'OWLAT_SIGNIN_LOCK_MS is at most a day').default(15 * 60_000),
  OWLAT_TRUSTED_PROXIES: z.preprocess(emptyAsUnset, trustedProxiesSchema.optional()),
  // Automatic updates and notifications (issue 17). The notifier (shared/node/notify) reads the
  // same variables; checking them here stops every process at start on a bad one, naming it.
  OWLAT_SCHEDULE_TICK_MS: z.coerce.number().int().min(1000, 'OWLAT_SCHEDULE_TICK_MS is at least 1000 (a second)').default(60_000),
  OWLAT_WEBHOOK_URLS: z.preprocess(emptyAsUnset, z.string().transform(value => value.split(',').map(s => s.trim()).filter(Boolean)).pipe(z.array(webhookUrlSchema)).optional()),
  OWLAT_WEBHOOK_SECRET: z.preprocess(emptyAsUnset, z.string().optional()),
  OWLAT_SMTP_URL: z.preprocess(emptyAsUnset, smtpUrlSchema.optional()),
}).superRefine((env, ctx) => {
  if (env.OWLAT_WEBHOOK_URLS?.length && env.OWLAT_WEBHOOK_SECRET === undefined) {
    ctx.addIssue({ code: 'custom', path: ['OWLAT_WEBHOOK_SECRET'], message: 'required when OWLAT_WEBHOOK_URLS is set' })
  }
  if (env.OWLAT_RELEASE_SOURCE === 'github' && env.OWLAT_GITHUB_REPO === undefined) {
    ctx.addIssue({ code: 'custom', path: ['OWLAT_GITHUB_REPO'], message: 'required when OWLAT_RELEASE_SOURCE=github' })
  }
  // Convex is the store only with both: a URL without the key could not call the functions.
  if (env.OWLAT_CONVEX_URL !== undefined && env.OWLAT_CONVEX_ADMIN_KEY === undefined) {
    ctx.addIssue({ code: 'custom', path: ['OWLAT_CONVEX_ADMIN_KEY'], message: 'required when OWLAT_CONVEX_URL is set' })
  }
  if (env.OWLAT_CONVEX_ADMIN_KEY !== undefined && env.OWLAT_CONVEX_URL === undefined) {
    ctx.addIssue({ code: 'custom', path: ['OWLAT_CONVEX_URL'], message: 'required when OWLAT_CONVEX_ADMIN_KEY is set' })
  }
})

export type OwlatConfig = ReturnType<typeof loadConfig>

export const SECRET_FILE = 'instance-secret'
export const PUBLIC_KEY_FILE = join('keys', 'release-signing.pub.pem')
export const PRIVATE_KEY_FILE = join('keys', 'release-signing.pem')

function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined
}

/** Parse the environment; throws one readable error naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = envSchema.safeParse(env)
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map(i => `${String(i.path[0])}: ${i.message}`).join('; ')}`)
  }
  const e = parsed.data
  const dataDir = resolve(e.OWLAT_DATA_DIR)
  // The secret and the key files are asked for on every signed request and status read; once
  // one exists its text is kept (they are written before anything starts, never while it runs).
  const files = new Map<string, string>()
  const readKept = (path: string): string | undefined => {
    const kept = files.get(path)
    if (kept !== undefined) return kept
    const text = readIfExists(path)
    if (text !== undefined) files.set(path, text)
    return text
  }
  return {
    port: e.PORT,
    updaterPort: e.OWLAT_UPDATER_PORT,
    updaterHost: e.OWLAT_UPDATER_HOST,
    updaterUrl: e.OWLAT_UPDATER_URL ?? `http://127.0.0.1:${e.OWLAT_UPDATER_PORT}`,
    dataDir,
    driver: e.OWLAT_DRIVER,
    owlatDir: resolve(e.OWLAT_DIR),
    releaseSource: e.OWLAT_RELEASE_SOURCE,
    releaseDir: resolve(e.OWLAT_RELEASE_DIR ?? join(dataDir, 'releases')),
    github: {
      repo: e.OWLAT_GITHUB_REPO ?? null,
      // Without the trailing slash, so paths join the same way for github.com and GHES (`…/api/v3`).
      apiUrl: e.OWLAT_GITHUB_API_URL.replace(/\/+$/, ''),
      token: e.OWLAT_GITHUB_TOKEN?.trim() ?? null,
    },
    releaseCheck: { intervalMs: e.OWLAT_RELEASE_CHECK_INTERVAL_MS, jitterMs: e.OWLAT_RELEASE_CHECK_JITTER_MS },
    verifyTimeoutMs: e.OWLAT_VERIFY_TIMEOUT_MS,
    /** The largest offline release bundle taken (OWLAT_BUNDLE_MAX_BYTES). */
    bundleMaxBytes: e.OWLAT_BUNDLE_MAX_BYTES,
    /** How long `watch` keeps sampling the new version before `commit` (OWLAT_WATCH_MS). */
    watchMs: e.OWLAT_WATCH_MS,
    runLeaseMs: e.OWLAT_RUN_LEASE_MS,
    /** How often the automatic update scheduler looks (OWLAT_SCHEDULE_TICK_MS). */
    scheduleTickMs: e.OWLAT_SCHEDULE_TICK_MS,
    /** The standalone app's sign-in throttling (playground/server/utils/sign-in-throttle.ts). */
    signIn: {
      pairMaxFailures: e.OWLAT_SIGNIN_MAX_FAILURES,
      addressMaxFailures: e.OWLAT_SIGNIN_ADDRESS_MAX_FAILURES,
      accountMaxFailures: e.OWLAT_SIGNIN_ACCOUNT_MAX_FAILURES,
      windowMs: e.OWLAT_SIGNIN_WINDOW_MS,
      lockMs: e.OWLAT_SIGNIN_LOCK_MS,
    },
    /** Proxies whose X-Forwarded-For names the client (OWLAT_TRUSTED_PROXIES); empty: none. */
    trustedProxies: e.OWLAT_TRUSTED_PROXIES ?? [],
    /** Origins the page is served from (OWLAT_ORIGIN); null: the address each request came to. */
    origins: e.OWLAT_ORIGIN && e.OWLAT_ORIGIN.length > 0 ? e.OWLAT_ORIGIN : null,
    /** Set: Convex is the web's store; null: the embedded SQLite store. */
    convex: e.OWLAT_CONVEX_URL !== undefined && e.OWLAT_CONVEX_ADMIN_KEY !== undefined
      ? { url: e.OWLAT_CONVEX_URL, adminKey: e.OWLAT_CONVEX_ADMIN_KEY.trim() }
      : null,
    /** Falls back to the secret `npm start` generated into the data dir. */
    instanceSecret(): string {
      const secret = e.OWLAT_INSTANCE_SECRET ?? readKept(join(dataDir, SECRET_FILE))
      if (!secret) throw new Error(`no instance secret: set OWLAT_INSTANCE_SECRET or create ${join(dataDir, SECRET_FILE)}`)
      return secret
    },
    /** PEM of the pinned release key; falls back to the demo key made at first start. */
    releasePublicKey(): string {
      const key = e.OWLAT_RELEASE_PUBLIC_KEY ?? readKept(join(dataDir, PUBLIC_KEY_FILE))
      if (!key) throw new Error(`no release public key: set OWLAT_RELEASE_PUBLIC_KEY or create ${join(dataDir, PUBLIC_KEY_FILE)}`)
      return key.includes('BEGIN') ? key : Buffer.from(key, 'base64').toString('utf8')
    },
    /** Every configured trusted key: OWLAT_RELEASE_PUBLIC_KEYS, then the pinned one (when set or made). */
    releasePublicKeys(): string[] {
      const several = e.OWLAT_RELEASE_PUBLIC_KEYS
      const text = several && !several.includes('BEGIN') ? Buffer.from(several, 'base64').toString('utf8') : several
      const keys = text ? splitPemKeys(text) : []
      if (text && keys.length === 0) throw new Error('OWLAT_RELEASE_PUBLIC_KEYS holds no PEM public key')
      const single = e.OWLAT_RELEASE_PUBLIC_KEY ?? readKept(join(dataDir, PUBLIC_KEY_FILE))
      if (single) keys.push(single.includes('BEGIN') ? single : Buffer.from(single, 'base64').toString('utf8'))
      if (keys.length === 0) throw new Error(`no release public key: set OWLAT_RELEASE_PUBLIC_KEY(S) or create ${join(dataDir, PUBLIC_KEY_FILE)}`)
      return keys
    },
  }
}
