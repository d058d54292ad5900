/**
 * A loopback HTTP server that answers like the GitHub REST API for one repository: the releases
 * list (newest first, `per_page`/`page`, `Link` headers, ETag/304), a release by tag, and asset
 * downloads that redirect (API address → public download address → a second "storage" origin,
 * like objects.githubusercontent.com). Faults are queued per request (`fail`). Used by the tests
 * and by bench/github-requests.ts; it only ever listens on 127.0.0.1.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { artifactNames, writeReleaseArtifacts } from '../../shared/release-artifacts'
import { INDEX_FILE, INDEX_SIGNATURE_FILE, nextIndex, writeSignedIndex, type IndexUpdate, type SignedIndex } from '../../shared/release-index'
import type { ReleaseIndex, ReleaseManifest } from '../../shared/schemas/release'
import { compareVersions } from '../../shared/version'

export interface FakeAsset {
  id: number
  name: string
  content: Buffer
  updatedAt: string
}

export interface FakeRelease {
  id: number
  tag: string
  draft: boolean
  prerelease: boolean
  body: string | null
  createdAt: string
  publishedAt: string | null
  assets: FakeAsset[]
}

export interface Fault {
  /** Which requests it applies to: `list`, `tag`, `asset` (the first hop of a download) or `any`. */
  on: 'list' | 'tag' | 'asset' | 'any'
  status?: number
  headers?: Record<string, string>
  body?: string
  /** Sends the headers, then waits this long before the body. */
  delayMs?: number
}

export interface RecordedRequest {
  method: string
  /** Which origin answered it. */
  origin: 'api' | 'storage'
  path: string
  headers: IncomingMessage['headers']
  status: number
}

export interface FakeGitHub {
  apiUrl: string
  repo: string
  releases: FakeRelease[]
  requests: RecordedRequest[]
  /** Queue a fault for the next matching request. */
  fail: (fault: Fault) => void
  /** Adds a release on top (newest); returns it. */
  add: (release: Partial<FakeRelease> & { tag: string }) => FakeRelease
  /**
   * Publishes a signed release index over every release's manifest asset (the release tooling's
   * code), attached to the newest product release as each publication does; returns what it serves.
   */
  publishIndex: (privateKey: string, update?: Omit<IndexUpdate, 'manifests'>) => SignedIndex & { index: ReleaseIndex }
  /** Serves exactly this index (a replayed or forged one) in place of the current one. */
  serveIndex: (signed: SignedIndex) => void
  close: () => Promise<void>
}

let nextId = 1000

export async function startFakeGitHub(opts: { repo?: string, perPageMax?: number } = {}): Promise<FakeGitHub> {
  const repo = opts.repo ?? 'owlat/owlat'
  const perPageMax = opts.perPageMax ?? 100
  const releases: FakeRelease[] = []
  let lastIndex: ReleaseIndex | null = null
  const requests: RecordedRequest[] = []
  const faults: Fault[] = []
  const sockets = new Set<import('node:net').Socket>()

  const listen = async (server: Server) => {
    server.on('connection', (s) => {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  const takeFault = (kind: Fault['on']): Fault | undefined => {
    const i = faults.findIndex(f => f.on === kind || f.on === 'any')
    return i === -1 ? undefined : faults.splice(i, 1)[0]
  }

  const apiServer = createServer()
  const storageServer = createServer()
  const apiUrl = await listen(apiServer)
  const storageUrl = await listen(storageServer)

  const assetJson = (r: FakeRelease, a: FakeAsset) => ({
    id: a.id,
    name: a.name,
    size: a.content.length,
    url: `${apiUrl}/repos/${repo}/releases/assets/${a.id}`,
    browser_download_url: `${apiUrl}/${repo}/releases/download/${r.tag}/${a.name}`,
    updated_at: a.updatedAt,
    content_type: 'application/octet-stream',
    state: 'uploaded',
  })
  const releaseJson = (r: FakeRelease) => ({
    url: `${apiUrl}/repos/${repo}/releases/${r.id}`,
    html_url: `https://github.com/${repo}/releases/tag/${r.tag}`,
    id: r.id,
    tag_name: r.tag,
    target_commitish: 'main',
    name: r.tag,
    draft: r.draft,
    prerelease: r.prerelease,
    created_at: r.createdAt,
    published_at: r.publishedAt,
    body: r.body,
    author: { login: 'owlat-bot', id: 1 },
    assets: r.assets.map(a => assetJson(r, a)),
  })

  function send(req: IncomingMessage, res: ServerResponse, origin: RecordedRequest['origin'], status: number, headers: Record<string, string>, body: string | Buffer, delayMs = 0): void {
    requests.push({ method: req.method ?? 'GET', origin, path: req.url ?? '/', headers: req.headers, status })
    res.writeHead(status, headers)
    if (delayMs > 0) {
      res.flushHeaders()
      setTimeout(() => res.end(body), delayMs).unref()
    }
    else {
      res.end(body)
    }
  }

  apiServer.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', apiUrl)
    const parts = url.pathname.split('/').filter(Boolean)
    const base = `/repos/${repo}/releases`
    const kind: Fault['on'] | null = url.pathname === base
      ? 'list'
      : url.pathname.startsWith(`${base}/tags/`)
        ? 'tag'
        : url.pathname.startsWith(`${base}/assets/`) || url.pathname.startsWith(`/${repo}/releases/download/`) ? 'asset' : null
    const fault = kind ? takeFault(kind) : undefined
    if (fault) {
      const headers = { 'content-type': 'application/json; charset=utf-8', ...fault.headers }
      send(req, res, 'api', fault.status ?? 200, headers, fault.body ?? '[]', fault.delayMs)
      return
    }
    if (kind === 'list') {
      const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), perPageMax)
      const page = Number(url.searchParams.get('page') ?? 1)
      const slice = releases.slice((page - 1) * perPage, page * perPage)
      const body = JSON.stringify(slice.map(releaseJson))
      const etag = `W/"${createHash('sha256').update(body).digest('hex')}"`
      if (req.headers['if-none-match'] === etag) {
        send(req, res, 'api', 304, { etag }, '')
        return
      }
      const pages = Math.max(1, Math.ceil(releases.length / perPage))
      const link = (p: number, rel: string) => `<${apiUrl}${base}?per_page=${perPage}&page=${p}>; rel="${rel}"`
      const links = [page < pages ? link(page + 1, 'next') : null, page > 1 ? link(page - 1, 'prev') : null, link(pages, 'last')].filter(Boolean)
      send(req, res, 'api', 200, {
        'content-type': 'application/json; charset=utf-8',
        etag,
        'link': links.join(', '),
        'x-ratelimit-limit': '60',
        'x-ratelimit-remaining': '59',
      }, body)
      return
    }
    if (kind === 'tag') {
      const tag = decodeURIComponent(parts.at(-1) ?? '')
      const r = releases.find(x => x.tag === tag && !x.draft)
      if (!r) send(req, res, 'api', 404, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Not Found' }))
      else send(req, res, 'api', 200, { 'content-type': 'application/json' }, JSON.stringify(releaseJson(r)))
      return
    }
    if (kind === 'asset') {
      // Both addresses redirect to the storage origin, as GitHub's do.
      const asset = url.pathname.startsWith(`${base}/assets/`)
        ? releases.flatMap(r => r.assets).find(a => String(a.id) === parts.at(-1))
        : releases.find(r => r.tag === parts.at(-2))?.assets.find(a => a.name === parts.at(-1))
      if (!asset) {
        send(req, res, 'api', 404, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Not Found' }))
        return
      }
      send(req, res, 'api', 302, { location: `${apiUrl}/redirect/${asset.id}` }, '')
      return
    }
    if (parts[0] === 'redirect') {
      send(req, res, 'api', 302, { location: `${storageUrl}/objects/${parts[1]}` }, '')
      return
    }
    send(req, res, 'api', 404, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Not Found' }))
  })

  storageServer.on('request', (req, res) => {
    const id = (req.url ?? '').split('/').at(-1)
    const asset = releases.flatMap(r => r.assets).find(a => String(a.id) === id)
    if (!asset) send(req, res, 'storage', 404, {}, 'not found')
    else send(req, res, 'storage', 200, { 'content-type': 'application/octet-stream' }, asset.content)
  })

  function serveIndex(signed: SignedIndex): void {
    for (const r of releases) r.assets = r.assets.filter(a => a.name !== INDEX_FILE && a.name !== INDEX_SIGNATURE_FILE)
    const newest = releases.filter(r => !r.draft && /^v\d/.test(r.tag)).sort((a, b) => compareVersions(b.tag.slice(1), a.tag.slice(1)))[0]
    if (!newest) throw new Error('no release to attach the index to')
    const updatedAt = new Date().toISOString()
    newest.assets.push(
      { id: nextId++, name: INDEX_FILE, content: Buffer.from(signed.bytes), updatedAt },
      { id: nextId++, name: INDEX_SIGNATURE_FILE, content: Buffer.from(`${signed.signature.trim()}\n`), updatedAt },
    )
  }

  return {
    apiUrl,
    repo,
    releases,
    requests,
    fail: fault => faults.push(fault),
    add(partial) {
      const release: FakeRelease = {
        id: nextId++,
        draft: false,
        prerelease: false,
        body: `Release ${partial.tag}`,
        createdAt: new Date().toISOString(),
        publishedAt: new Date().toISOString(),
        assets: [],
        ...partial,
      }
      releases.unshift(release)
      return release
    },
    publishIndex(privateKey, update = {}) {
      const manifests = releases.flatMap(r => r.assets.filter(a => /^release-.+\.json$/.test(a.name)).map((a) => {
        const manifest = JSON.parse(a.content.toString('utf8')) as ReleaseManifest
        return { manifest, bytes: a.content }
      }))
      const dir = mkdtempSync(join(tmpdir(), 'owlat-fake-index-'))
      try {
        const written = writeSignedIndex(dir, nextIndex(lastIndex, { ...update, manifests }), privateKey)
        lastIndex = written.index
        serveIndex(written)
        return written
      }
      finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
    serveIndex,
    async close() {
      for (const s of sockets) s.destroy()
      await Promise.all([apiServer, storageServer].map(s => new Promise<void>(resolve => s.close(() => resolve()))))
    },
  }
}

export interface SignedReleaseInput {
  version: string
  privateKey: string
  channel?: 'stable' | 'beta'
  severity?: 'normal' | 'security'
  migratesData?: boolean
  notes?: string
  compose?: string
}

/** The signed artifacts of one release as GitHub assets (made with the real release tooling code). */
export function signedAssets(input: SignedReleaseInput): FakeAsset[] {
  const dir = mkdtempSync(join(tmpdir(), 'owlat-fake-assets-'))
  try {
    const manifest: Omit<ReleaseManifest, 'compose'> = {
      version: input.version,
      channel: input.channel ?? (input.version.includes('-') ? 'beta' : 'stable'),
      publishedAt: '2026-11-01T10:00:00Z',
      severity: input.severity ?? 'normal',
      images: [{ service: 'web', image: `ghcr.io/owlat/web:${input.version}` }],
      migrations: { migratesData: input.migratesData ?? false, rollbackFloor: null },
      notes: input.notes ?? `## ${input.version}\n\n- Changes.\n`,
    }
    const compose = input.compose ?? `services:\n  web:\n    image: ghcr.io/owlat/web:${input.version}@sha256:${'a'.repeat(64)}\n`
    writeReleaseArtifacts({ dir, compose, privateKey: input.privateKey, manifest, index: false })
    const names = artifactNames(input.version)
    return [names.compose, names.composeSha, names.manifest, names.signature].map(name => ({
      id: nextId++,
      name,
      content: readFileSync(join(dir, name)),
      updatedAt: '2026-11-01T10:00:00Z',
    }))
  }
  finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
