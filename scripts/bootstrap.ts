/**
 * First-start set-up of the embedded defaults under OWLAT_DATA_DIR (idempotent): the instance
 * secret, the session password, a demo Ed25519 release key, and a demo release folder signed
 * with it. A second run reuses everything it finds.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve, sep } from 'node:path'
import { stringify } from 'yaml'
import { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, SECRET_FILE } from '../shared/config'
import { artifactNames, writeReleaseArtifacts } from '../shared/release-artifacts'
import { DEFAULT_INDEX_TTL_MS, readIndexFile, updateIndexIn } from '../shared/release-index'
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../shared/node/private-files'
import { sha256Hex } from '../shared/release-verify'
import { releaseManifestSchema, type ReleaseManifest } from '../shared/schemas/release'

export const SESSION_PASSWORD_FILE = 'session-password'
/** The version a fresh demo instance runs. */
export const DEMO_INSTALLED_VERSION = '1.2.2'

/** When the demo's 1.4.0-beta.2 web turns unhealthy after it first answered healthy. */
export const DEMO_LATE_FAULT_MS = 15_000

interface DemoRelease {
  version: string
  channel: 'stable' | 'beta'
  publishedAt: string
  severity: 'normal' | 'security'
  migratesData: boolean
  rollbackFloor: string | null
  /** A required upgrade stop: installs only over this version or newer. */
  minimumFrom?: string
  /** Environment of the web service; the local driver passes it to the web process. */
  webEnv?: Record<string, string>
  notes: string
}

export const DEMO_RELEASES: DemoRelease[] = [
  {
    version: '1.2.2',
    channel: 'stable',
    publishedAt: '2026-09-01T10:00:00Z',
    severity: 'normal',
    migratesData: false,
    rollbackFloor: null,
    notes: '## 1.2.2\n\n- Fixes bounce handling for large campaigns.\n- Faster contact import.\n',
  },
  {
    version: '1.2.3',
    channel: 'stable',
    publishedAt: '2026-10-01T10:00:00Z',
    severity: 'normal',
    migratesData: false,
    rollbackFloor: null,
    notes: '## 1.2.3\n\n- Fixes a crash when a DKIM key is rotated.\n- Smaller web image.\n',
  },
  {
    version: '1.3.0',
    channel: 'stable',
    publishedAt: '2026-11-01T10:00:00Z',
    severity: 'normal',
    migratesData: false,
    rollbackFloor: null,
    notes: '## 1.3.0\n\n**New:** segments can be scheduled.\n\n- Campaign editor: undo history.\n- See the [changelog](https://github.com/owlat/owlat/releases/tag/v1.3.0).\n',
  },
  {
    // A required upgrade stop: from 1.2.2 the path is 1.2.2 → 1.3.0 → 1.3.1.
    version: '1.3.1',
    channel: 'stable',
    publishedAt: '2026-11-20T10:00:00Z',
    severity: 'normal',
    migratesData: false,
    rollbackFloor: null,
    minimumFrom: '1.3.0',
    notes: '## 1.3.1\n\n- Scheduled segments keep their time zone.\n\n**Upgrade stop:** installs only over 1.3.0 or newer; older instances go through 1.3.0 first.\n',
  },
  {
    version: '1.4.0-beta.1',
    channel: 'beta',
    publishedAt: '2026-11-15T10:00:00Z',
    severity: 'normal',
    migratesData: false,
    rollbackFloor: null,
    // The demo's broken release: its web answers but never reports healthy.
    webEnv: { OWLAT_DEMO_FAULT: 'unhealthy' },
    notes: '## 1.4.0-beta.1\n\nPreview of the new automation builder. **Beta**: not for production.\n',
  },
  {
    version: '1.4.0-beta.2',
    channel: 'beta',
    publishedAt: '2026-11-25T10:00:00Z',
    severity: 'normal',
    migratesData: false,
    rollbackFloor: null,
    // The demo's release that falls over later: it passes verify, then turns unhealthy 15 s after
    // it first answered healthy, so the watch window catches it and restores the previous version.
    webEnv: { OWLAT_DEMO_FAULT: `unhealthy-after:${DEMO_LATE_FAULT_MS}` },
    notes: '## 1.4.0-beta.2\n\nAutomation builder: branching steps. **Beta**: not for production.\n',
  },
]

/** A digest that stands in for a registry's: stable per image reference. */
function fakeDigest(ref: string): string {
  return `sha256:${sha256Hex(ref)}`
}

export function demoCompose(release: Pick<DemoRelease, 'version' | 'webEnv'>): string {
  const pin = (name: string) => {
    const ref = `ghcr.io/owlat/${name}:${release.version}`
    return `${ref}@${fakeDigest(ref)}`
  }
  return stringify({
    name: 'owlat',
    services: {
      web: {
        image: pin('web'),
        restart: 'unless-stopped',
        environment: { NUXT_PUBLIC_SITE_URL: 'http://127.0.0.1:3000', ...release.webEnv },
        healthcheck: { test: ['CMD', 'wget', '-qO-', 'http://127.0.0.1:3000/api/healthz'], interval: '5s' },
      },
      updater: { image: pin('updater'), restart: 'unless-stopped' },
    },
  })
}

/** Everything under the data dir is the owner's alone: folders 0700, files 0600. */
function writeIfMissing(path: string, content: () => string): void {
  if (existsSync(path)) return
  ensurePrivateDir(dirname(path))
  writeFileSync(path, content(), { mode: PRIVATE_FILE_MODE })
}

export interface BootstrapResult {
  dataDir: string
  releaseDir: string
  firstStart: boolean
}

export interface BootstrapOptions {
  /** Where the demo releases go; defaults to `<dataDir>/releases`. */
  releaseDir?: string
  /** False when the operator pinned their own release key or release folder: then no demo key or releases are made. */
  demo?: boolean
}

/**
 * The demo publication's signed index: written when missing (a data dir from before indexes) and
 * signed again, with a higher serial, once half its life is gone, so a demo instance never sees
 * its own releases go stale. Lists every demo release whose manifest is in the folder.
 */
function refreshDemoIndex(releaseDir: string, privateKey: string, privateFiles: boolean, now = Date.now()): void {
  // An unreadable index is replaced like a missing one (serial from 1 again: a demo has no history to protect).
  let current: ReturnType<typeof readIndexFile>
  try {
    current = readIndexFile(releaseDir)
  }
  catch {
    current = null
  }
  const listed = new Set(current?.releases.map(r => r.version))
  const fresh = current !== null && Date.parse(current.expiresAt) - now > DEFAULT_INDEX_TTL_MS / 2
  if (fresh && DEMO_RELEASES.every(r => listed.has(r.version))) return
  const manifests = DEMO_RELEASES.flatMap((r) => {
    const path = join(releaseDir, artifactNames(r.version).manifest)
    if (!existsSync(path)) return []
    const bytes = readFileSync(path)
    return [{ manifest: releaseManifestSchema.parse(JSON.parse(bytes.toString('utf8'))), bytes }]
  })
  updateIndexIn(releaseDir, { manifests, now }, privateKey, privateFiles ? PRIVATE_FILE_MODE : undefined)
}

/** Creates whatever is missing under `dataDir`. */
export function bootstrapDataDir(dataDir: string, opts: BootstrapOptions = {}): BootstrapResult {
  const releaseDir = opts.releaseDir ?? join(dataDir, 'releases')
  const firstStart = !existsSync(join(dataDir, SECRET_FILE))
  ensurePrivateDir(dataDir)
  writeIfMissing(join(dataDir, SECRET_FILE), () => randomBytes(32).toString('hex'))
  writeIfMissing(join(dataDir, SESSION_PASSWORD_FILE), () => randomBytes(32).toString('hex'))

  if (opts.demo === false) return { dataDir, releaseDir, firstStart }

  if (!existsSync(join(dataDir, PRIVATE_KEY_FILE))) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    writeIfMissing(join(dataDir, PRIVATE_KEY_FILE), () => privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())
    writeFileSync(join(dataDir, PUBLIC_KEY_FILE), publicKey.export({ type: 'spki', format: 'pem' }).toString(), { mode: PRIVATE_FILE_MODE })
  }
  const privateKey = readFileSync(join(dataDir, PRIVATE_KEY_FILE), 'utf8')

  for (const r of DEMO_RELEASES) {
    if (existsSync(join(releaseDir, artifactNames(r.version).signature))) continue
    const manifest: Omit<ReleaseManifest, 'compose'> = {
      version: r.version,
      channel: r.channel,
      publishedAt: r.publishedAt,
      severity: r.severity,
      images: ['web', 'updater'].map(service => ({ service, image: `ghcr.io/owlat/${service}:${r.version}` })),
      migrations: { migratesData: r.migratesData, rollbackFloor: r.rollbackFloor },
      ...(r.minimumFrom ? { minimumFrom: r.minimumFrom } : {}),
      notes: r.notes,
    }
    writeReleaseArtifacts({ dir: releaseDir, compose: demoCompose(r), privateKey, manifest, private: resolve(releaseDir).startsWith(`${resolve(dataDir)}${sep}`) })
  }
  refreshDemoIndex(releaseDir, privateKey, resolve(releaseDir).startsWith(`${resolve(dataDir)}${sep}`))
  // The stack the local driver runs: the installed version's pinned compose file.
  writeIfMissing(join(dataDir, 'stack', 'docker-compose.yml'), () => demoCompose(DEMO_RELEASES.find(r => r.version === DEMO_INSTALLED_VERSION)!))
  return { dataDir, releaseDir, firstStart }
}
