/**
 * The one client for the GitHub REST API (github.com or GitHub Enterprise Server): the releases
 * list (paginated, conditional), one release by tag, and release asset downloads. Every answer is
 * bounded in time and size and validated before use. Framework-independent: options are passed in.
 */
import { ofetch } from 'ofetch'
import { z } from 'zod'

export const githubAssetSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  size: z.number().int().nonnegative(),
  /** The API address of the asset (needs `Accept: application/octet-stream`; works with a token on private repos). */
  url: z.url(),
  browser_download_url: z.url(),
  updated_at: z.string(),
})
export type GitHubAsset = z.infer<typeof githubAssetSchema>

export const githubReleaseSchema = z.object({
  id: z.number().int(),
  tag_name: z.string(),
  draft: z.boolean(),
  prerelease: z.boolean(),
  body: z.string().nullish(),
  created_at: z.string(),
  published_at: z.string().nullable(),
  assets: z.array(githubAssetSchema),
})
export type GitHubRelease = z.infer<typeof githubReleaseSchema>

/** Why a request to GitHub gave no usable answer (timeout, 5xx, malformed body, too large …). */
export class GitHubError extends Error {
  constructor(message: string, readonly status: number | null = null) {
    super(message)
    this.name = 'GitHubError'
  }
}

/** GitHub asked us to wait: no request to it may be made before `retryAt` (unix ms). */
export class GitHubRateLimitError extends GitHubError {
  constructor(readonly retryAt: number, status: number) {
    super(`GitHub rate limit reached (HTTP ${status}); asking again after ${new Date(retryAt).toISOString()}`, status)
    this.name = 'GitHubRateLimitError'
  }
}

export interface GitHubClientOptions {
  /** `https://api.github.com`, or a GHES `https://host/api/v3`. */
  apiUrl: string
  /** `owner/name` */
  repo: string
  token?: string | null
  /** Per request, body included. */
  timeoutMs?: number
  /** Bound on `Link: rel="next"` pages followed (100 releases each). */
  maxPages?: number
  perPage?: number
  maxAssetBytes?: number
  maxRedirects?: number
  now?: () => number
}

export type ReleaseListAnswer
  = | { notModified: true }
    | { notModified: false, releases: GitHubRelease[], etag: string | null, truncated: boolean }

export interface GitHubClient {
  /** `owner/name` */
  readonly repo: string
  /** Newest first, up to `maxPages` pages; with `etag`, a 304 on the first page means nothing changed. */
  listReleases(etag: string | null): Promise<ReleaseListAnswer>
  /** null when there is no such release (404). */
  getReleaseByTag(tag: string): Promise<GitHubRelease | null>
  downloadAsset(asset: GitHubAsset): Promise<Buffer>
}

const MAX_LIST_PAGE_BYTES = 5_000_000
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])
// GitHub resets the primary limit within the hour; anything longer is a broken header we should outlive.
const MAX_RATE_LIMIT_WAIT_MS = 24 * 60 * 60_000
const DEFAULT_SECONDARY_WAIT_MS = 60_000

/** `Link: <…?page=2>; rel="next", <…>; rel="last"` → the `next` address, if any. */
export function nextLink(header: string | null): string | null {
  if (!header) return null
  for (const part of header.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="([^"]+)"/.exec(part)
    if (m && m[2]!.split(/\s+/).includes('next')) return m[1]!
  }
  return null
}

/**
 * When a 403/429 is a rate limit, the time GitHub allows the next request; null for any other
 * answer (a 403 without those headers is a plain permission error).
 */
export function rateLimitRetryAt(status: number, headers: Headers, now: number): number | null {
  if (status !== 403 && status !== 429) return null
  let at: number | null = null
  const retryAfter = headers.get('retry-after')
  if (retryAfter !== null) {
    const seconds = Number(retryAfter)
    const date = Date.parse(retryAfter)
    if (Number.isFinite(seconds)) at = now + seconds * 1000
    else if (Number.isFinite(date)) at = date
  }
  if (at === null && headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(headers.get('x-ratelimit-reset'))
    if (Number.isFinite(reset)) at = reset * 1000
  }
  // GitHub's advice for a secondary limit without headers: wait at least a minute.
  if (at === null && status === 429) at = now + DEFAULT_SECONDARY_WAIT_MS
  if (at === null) return null
  return Math.min(Math.max(at, now + 1000), now + MAX_RATE_LIMIT_WAIT_MS)
}

async function readLimited(body: ReadableStream<Uint8Array> | null | undefined, limit: number, what: string): Promise<Buffer> {
  if (!body) return Buffer.alloc(0)
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => {})
      throw new GitHubError(`${what} is larger than ${limit} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}

interface Answer {
  status: number
  headers: Headers
  body: Buffer
}

export function createGitHubClient(opts: GitHubClientOptions): GitHubClient {
  const apiUrl = opts.apiUrl.replace(/\/+$/, '')
  const apiOrigin = new URL(apiUrl).origin
  const timeoutMs = opts.timeoutMs ?? 15_000
  const maxPages = opts.maxPages ?? 5
  const perPage = opts.perPage ?? 100
  const maxAssetBytes = opts.maxAssetBytes ?? 1_000_000
  const maxRedirects = opts.maxRedirects ?? 5
  const now = opts.now ?? Date.now
  const repoPath = `/repos/${opts.repo.split('/').map(encodeURIComponent).join('/')}`

  /**
   * One GET with redirects followed by hand: the token goes to the API's own origin only (an
   * asset redirects to a storage host), and a redirect may not downgrade https to http.
   */
  async function get(url: string, init: { accept: string, etag?: string | null, maxBytes: number, what: string }): Promise<Answer> {
    const signal = AbortSignal.timeout(timeoutMs)
    let current = new URL(url)
    try {
      for (let hop = 0; ; hop++) {
        const headers: Record<string, string> = {
          'Accept': init.accept,
          'User-Agent': 'owlat-updater',
          'X-GitHub-Api-Version': '2022-11-28',
        }
        if (opts.token && current.origin === apiOrigin) headers.Authorization = `Bearer ${opts.token}`
        if (init.etag && hop === 0) headers['If-None-Match'] = init.etag
        const res = await ofetch.raw(current.href, {
          method: 'GET',
          headers,
          redirect: 'manual',
          signal,
          retry: 0,
          ignoreResponseError: true,
          responseType: 'stream',
        })
        const location = res.headers.get('location')
        if (REDIRECT_STATUSES.has(res.status) && location) {
          await res.body?.cancel().catch(() => {})
          if (hop >= maxRedirects) throw new GitHubError(`${init.what}: more than ${maxRedirects} redirects`)
          const next = new URL(location, current)
          if (next.protocol !== 'https:' && (next.protocol !== 'http:' || current.protocol === 'https:')) {
            throw new GitHubError(`${init.what}: refusing a redirect to ${next.protocol}//${next.host}`)
          }
          current = next
          continue
        }
        const limit = res.status >= 200 && res.status < 300 ? init.maxBytes : 64_000
        const body = await readLimited(res.body, limit, init.what)
        return { status: res.status, headers: res.headers, body }
      }
    }
    catch (err) {
      if (err instanceof GitHubError) throw err
      if (signal.aborted) throw new GitHubError(`${init.what}: no complete answer within ${timeoutMs} ms`)
      const cause = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)
      throw new GitHubError(`${init.what}: ${cause}`)
    }
  }

  /** Turns a failed answer into the error the caller records; rate limits keep their reset time. */
  function failure(answer: Answer, what: string): GitHubError {
    const retryAt = rateLimitRetryAt(answer.status, answer.headers, now())
    if (retryAt !== null) return new GitHubRateLimitError(retryAt, answer.status)
    const message = z.object({ message: z.string() }).safeParse(safeJson(answer.body))
    const detail = message.success ? `: ${message.data.message.slice(0, 200)}` : ''
    return new GitHubError(`${what}: GitHub answered HTTP ${answer.status}${detail}`, answer.status)
  }

  function parseJson<T>(answer: Answer, schema: z.ZodType<T>, what: string): T {
    const json = safeJson(answer.body)
    if (json === undefined) throw new GitHubError(`${what}: the answer is not valid JSON`)
    const parsed = schema.safeParse(json)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new GitHubError(`${what}: unexpected answer shape (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`)
    }
    return parsed.data
  }

  return {
    repo: opts.repo,
    async listReleases(etag) {
      const releases: GitHubRelease[] = []
      let url: string | null = `${apiUrl}${repoPath}/releases?per_page=${perPage}`
      let firstEtag: string | null = null
      for (let page = 1; url !== null; page++) {
        if (page > maxPages) return { notModified: false, releases, etag: firstEtag, truncated: true }
        const what = `GitHub releases of ${opts.repo} (page ${page})`
        const answer = await get(url, { accept: 'application/vnd.github+json', etag: page === 1 ? etag : null, maxBytes: MAX_LIST_PAGE_BYTES, what })
        if (page === 1 && answer.status === 304 && etag) return { notModified: true }
        if (answer.status !== 200) throw failure(answer, what)
        releases.push(...parseJson(answer, z.array(githubReleaseSchema), what))
        if (page === 1) firstEtag = answer.headers.get('etag')
        const next = nextLink(answer.headers.get('link'))
        // The token must never leave the API's origin, whatever a Link header says.
        if (next !== null && new URL(next, url).origin !== apiOrigin) throw new GitHubError(`${what}: next page is on another host`)
        url = next === null ? null : new URL(next, url).href
      }
      return { notModified: false, releases, etag: firstEtag, truncated: false }
    },

    async getReleaseByTag(tag) {
      const what = `GitHub release ${tag} of ${opts.repo}`
      const answer = await get(`${apiUrl}${repoPath}/releases/tags/${encodeURIComponent(tag)}`, {
        accept: 'application/vnd.github+json',
        maxBytes: MAX_LIST_PAGE_BYTES,
        what,
      })
      if (answer.status === 404) return null
      if (answer.status !== 200) throw failure(answer, what)
      return parseJson(answer, githubReleaseSchema, what)
    },

    async downloadAsset(asset) {
      const what = `release asset ${asset.name}`
      if (asset.size > maxAssetBytes) throw new GitHubError(`${what} is larger than ${maxAssetBytes} bytes`)
      // With a token the API address works for private repositories too; without one the
      // public download address does not spend the API rate limit.
      const url = opts.token ? asset.url : asset.browser_download_url
      const answer = await get(url, { accept: 'application/octet-stream', maxBytes: maxAssetBytes, what })
      if (answer.status !== 200) throw failure(answer, what)
      return answer.body
    },
  }
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  }
  catch {
    return undefined
  }
}
