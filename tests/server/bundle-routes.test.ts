/**
 * The page's offline bundle upload (`POST /api/system/bundles`) against the real stack: the built
 * web and the real updater (local driver, so the bundles carry no images), a bundle made by
 * `release:bundle`. Refusals come first and assert nothing was kept; then the upload that works.
 * The github source's 409 is in github-stack.test.ts.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildReleaseBundle } from '../../scripts/release-bundle'
import { demoCompose } from '../../scripts/bootstrap'
import { artifactNames } from '../../shared/release-artifacts'
import { statusSchema } from '../../shared/schemas/api'
import { bundleUploadSchema } from '../../shared/schemas/bundle'
import { releasesResponseSchema } from '../../shared/schemas/release'
import { writeCustomRelease } from '../sidecar/helpers'
import { ADMIN, MEMBER, startStack, WEB, type Stack } from './stack'

/** The smallest limit the configuration takes: the oversized uploads below stay small too. */
const LIMIT = 1024 * 1024
const VERSION = '1.3.5'

let stack: Stack
let admin: string
let member: string
let bundle: string
const out = mkdtempSync(join(tmpdir(), 'owlat-bundle-routes-'))

interface Answer { status: number, body: { message?: string } & Record<string, unknown>, headers: Headers }

async function login(email: string, password: string): Promise<string> {
  const res = await fetch(`${WEB}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })
  expect(res.status).toBe(200)
  return res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
}

/** Uploads `bytes` as the page does: the file itself, application/octet-stream, the session cookie. */
async function upload(bytes: Buffer, opts: { cookie?: string, headers?: Record<string, string> } = {}): Promise<Answer> {
  const res = await fetch(`${WEB}/api/system/bundles`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'accept': 'application/json', ...(opts.cookie ? { cookie: opts.cookie } : {}), ...opts.headers },
    body: new Uint8Array(bytes),
  })
  return { status: res.status, body: await res.json() as Answer['body'], headers: res.headers }
}

async function get(path: string): Promise<unknown> {
  const res = await fetch(`${WEB}${path}`, { headers: { cookie: admin, accept: 'application/json' } })
  expect(res.status).toBe(200)
  return res.json()
}

/**
 * A request whose declared length or chunked body node:http sends as told (fetch computes the
 * length itself): resolves with the answer as soon as it comes, even while the body is unsent.
 */
function rawUpload(headers: Record<string, string>, body: Buffer | null): Promise<{ status: number, body: { message?: string }, connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(`${WEB}/api/system/bundles`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'cookie': admin, ...headers } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as { message?: string }, connection: res.headers.connection }))
    })
    // The server may close while the body is still on its way: the answer is what counts.
    req.on('error', err => setTimeout(() => reject(err), 2000))
    if (body) req.end(body)
    else req.flushHeaders()
  })
}

const kept = () => existsSync(join(stack.releaseDir, artifactNames(VERSION).manifest)) || existsSync(join(stack.releaseDir, artifactNames(VERSION).compose))
const uploadsLeft = () => {
  const dir = join(stack.dataDir, 'bundle-uploads')
  return existsSync(dir) ? readdirSync(dir) : []
}

beforeAll(async () => {
  stack = await startStack({ env: { OWLAT_BUNDLE_MAX_BYTES: String(LIMIT) } })
  admin = await login(ADMIN.email, ADMIN.password)
  member = await login(MEMBER.email, MEMBER.password)
  // A release of our own, signed with the stack's demo key and listed in its continued index.
  const from = writeCustomRelease(stack.dataDir, VERSION, demoCompose({ version: VERSION }))
  bundle = (await buildReleaseBundle([VERSION, '--from', from, '--key', join(stack.dataDir, 'keys', 'release-signing.pem'), '--out', out, '--no-images'])).file
}, 300_000)

afterAll(async () => {
  await stack?.stop()
})

describe('POST /api/system/bundles', () => {
  it('tells the page the limit, and that this instance takes bundles', async () => {
    const status = statusSchema.parse(await get('/api/system/status'))
    expect(status.bundleUpload).toEqual({ maxBytes: LIMIT, refusal: null })
  })

  it('is for platform admins only, and refuses before reading the body', async () => {
    const bytes = readFileSync(bundle)
    expect(await upload(bytes)).toMatchObject({ status: 401 })
    const refused = await upload(bytes, { cookie: member })
    expect(refused).toMatchObject({ status: 403, body: { message: 'Only platform admins can manage system updates' } })
    // The connection ends with the answer: nobody reads the rest of a refused upload.
    expect(refused.headers.get('connection')).toBe('close')
    expect(kept()).toBe(false)
  })

  it('keeps the cross-site rules: another origin, or what a form can send, is refused', async () => {
    const bytes = readFileSync(bundle)
    expect(await upload(bytes, { cookie: admin, headers: { origin: 'http://evil.example' } })).toMatchObject({ status: 403 })
    expect(await upload(bytes, { cookie: admin, headers: { 'content-type': 'text/plain' } })).toMatchObject({ status: 415 })
    expect(await upload(bytes, { cookie: admin, headers: { 'content-type': 'multipart/form-data; boundary=x' } })).toMatchObject({ status: 415 })
    // JSON passes the cross-site rules, but is no bundle.
    expect(await upload(Buffer.from('{}'), { cookie: admin, headers: { 'content-type': 'application/json' } })).toMatchObject({ status: 415, body: { message: expect.stringContaining('application/octet-stream') } })
    expect(kept()).toBe(false)
  })

  it('refuses a declared length past OWLAT_BUNDLE_MAX_BYTES with 413 before reading a byte', async () => {
    // Nothing of the body is ever sent: the answer comes on the headers alone.
    const answer = await rawUpload({ 'content-length': String(LIMIT + 1) }, null)
    expect(answer).toMatchObject({ status: 413, body: { message: 'The bundle is 1.0 MiB, larger than the limit of 1.0 MiB (OWLAT_BUNDLE_MAX_BYTES)' }, connection: 'close' })
    const huge = await rawUpload({ 'content-length': String(20 * 1024 ** 3) }, null)
    expect(huge).toMatchObject({ status: 413, body: { message: 'The bundle is 20.0 GiB, larger than the limit of 1.0 MiB (OWLAT_BUNDLE_MAX_BYTES)' } })
    expect(uploadsLeft()).toEqual([])
  })

  it('stops a body without a declared length at the limit with 413, and keeps nothing of it', async () => {
    const answer = await rawUpload({ 'transfer-encoding': 'chunked' }, Buffer.alloc(LIMIT + 64 * 1024, 1))
    expect(answer).toMatchObject({ status: 413, body: { message: expect.stringContaining(`larger than the limit of ${LIMIT} bytes`) } })
    expect(uploadsLeft()).toEqual([])
    expect(kept()).toBe(false)
  })

  it('refuses a bundle with one byte changed, with the updater\'s reason, and keeps nothing', async () => {
    const bytes = readFileSync(bundle)
    const at = Math.floor(bytes.length / 2)
    bytes[at] = bytes[at]! ^ 0x01
    const refused = await upload(bytes, { cookie: admin })
    expect(refused).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^bundle refused, nothing was kept: the bundle's signature does not verify/) } })
    expect(kept()).toBe(false)
    expect(uploadsLeft()).toEqual([])
    const { releases } = releasesResponseSchema.parse(await get('/api/system/releases'))
    expect(releases.map(r => r.version)).not.toContain(VERSION)
  })

  it('imports the bundle: the release is kept in the release folder and listed, verified', async () => {
    const answer = await upload(readFileSync(bundle), { cookie: admin })
    expect(answer.status).toBe(200)
    expect(bundleUploadSchema.parse(answer.body)).toEqual({ version: VERSION, images: [], indexExpired: false, releaseDir: stack.releaseDir })
    for (const file of Object.values(artifactNames(VERSION))) expect(existsSync(join(stack.releaseDir, file)), file).toBe(true)
    // The folder's index is the bundle's, which lists the release.
    expect(JSON.parse(readFileSync(join(stack.releaseDir, 'releases-index.json'), 'utf8'))).toMatchObject({ releases: expect.arrayContaining([expect.objectContaining({ version: VERSION })]) })
    const { releases } = releasesResponseSchema.parse(await get('/api/system/releases'))
    expect(releases.find(r => r.version === VERSION)).toMatchObject({ verified: true, verifyError: null })
    expect(statusSchema.parse(await get('/api/system/status')).latest?.version).toBe(VERSION)
    // The upload's temp file is gone; its folder is the owner's alone.
    expect(uploadsLeft()).toEqual([])
    expect(statSync(join(stack.dataDir, 'bundle-uploads')).mode & 0o777).toBe(0o700)
  })

  it('takes the same bundle again (nothing new, nothing broken)', async () => {
    const again = await upload(readFileSync(bundle), { cookie: admin })
    expect(again).toMatchObject({ status: 200, body: { version: VERSION } })
  })
})
