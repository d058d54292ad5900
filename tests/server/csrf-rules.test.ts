import { describe, expect, it } from 'vitest'
import { judgeCrossSite, MODULE_API_PREFIXES, type CrossSiteInput } from '../../server/utils/csrf'

const APP = 'http://127.0.0.1:3000'
const base: CrossSiteInput = {
  method: 'POST',
  pathname: '/api/system/updates',
  guarded: MODULE_API_PREFIXES,
  contentType: 'application/json',
  contentLength: '27',
  transferEncoding: undefined,
  origin: APP,
  secFetchSite: 'same-origin',
  allowedOrigins: [APP],
}
const judge = (over: Partial<CrossSiteInput>) => judgeCrossSite({ ...base, ...over })

describe('cross-site request rules', () => {
  it('lets the page\'s own JSON requests through, and what is not a browser', () => {
    expect(judge({})).toEqual({ ok: true })
    expect(judge({ contentType: 'application/json; charset=utf-8' })).toEqual({ ok: true })
    expect(judge({ origin: undefined, secFetchSite: undefined })).toEqual({ ok: true })
    // A POST without a body (Check now, acknowledge, sign out).
    expect(judge({ contentType: undefined, contentLength: undefined })).toEqual({ ok: true })
    expect(judge({ contentType: undefined, contentLength: '0' })).toEqual({ ok: true })
  })

  it('never judges reads, nor paths it does not guard: the module guards its own API, the standalone app all of /api/', () => {
    expect(judge({ method: 'GET', origin: 'http://evil.example', contentType: 'text/plain' })).toEqual({ ok: true })
    expect(judge({ method: 'HEAD', secFetchSite: 'cross-site' })).toEqual({ ok: true })
    expect(judge({ pathname: '/settings/system', origin: 'http://evil.example' })).toEqual({ ok: true })
    // A host's own route is the host's to guard; the standalone app guards its sign-in.
    expect(judge({ pathname: '/api/host/form', contentType: 'application/x-www-form-urlencoded' })).toEqual({ ok: true })
    expect(judge({ pathname: '/api/auth/login', guarded: ['/api/'], origin: 'http://evil.example' })).toMatchObject({ ok: false, statusCode: 403 })
    expect(judge({ pathname: '/api/owlat-system/user', origin: 'http://evil.example' })).toMatchObject({ ok: false, statusCode: 403 })
  })

  it.each(['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain;charset=UTF-8'])('refuses %s with 415, what a form can send', (contentType) => {
    expect(judge({ contentType })).toMatchObject({ ok: false, statusCode: 415 })
  })

  it('takes a file as the body only where a route takes one (the bundle upload), and only of its types', () => {
    const bundle = { pathname: '/api/system/bundles', contentLength: '4096' }
    expect(judge({ ...bundle, contentType: 'application/octet-stream' })).toEqual({ ok: true })
    expect(judge({ ...bundle, contentType: 'application/x-tar' })).toEqual({ ok: true })
    expect(judge({ ...bundle, contentType: 'text/plain' })).toMatchObject({ ok: false, statusCode: 415 })
    expect(judge({ ...bundle, contentType: 'multipart/form-data; boundary=x' })).toMatchObject({ ok: false, statusCode: 415 })
    // The same type anywhere else, and the upload from another origin.
    expect(judge({ contentType: 'application/octet-stream' })).toMatchObject({ ok: false, statusCode: 415 })
    expect(judge({ ...bundle, pathname: '/api/system/bundles/x', contentType: 'application/octet-stream' })).toMatchObject({ ok: false, statusCode: 415 })
    expect(judge({ ...bundle, contentType: 'application/octet-stream', origin: 'http://evil.example' })).toMatchObject({ ok: false, statusCode: 403 })
    expect(judge({ ...bundle, contentType: 'application/octet-stream', origin: undefined, secFetchSite: 'same-site' })).toMatchObject({ ok: false, statusCode: 403 })
  })

  it('refuses a body without a content type', () => {
    expect(judge({ contentType: undefined, contentLength: '12' })).toMatchObject({ ok: false, statusCode: 415 })
    expect(judge({ contentType: undefined, contentLength: undefined, transferEncoding: 'chunked' })).toMatchObject({ ok: false, statusCode: 415 })
  })

  it.each(['http://127.0.0.1:3430', 'http://sub.127.0.0.1.nip.io:3000', 'https://127.0.0.1:3000', 'null'])('refuses Origin %s with 403', (origin) => {
    expect(judge({ origin })).toMatchObject({ ok: false, statusCode: 403, message: expect.stringMatching(/^Cross-origin request refused/) })
  })

  it.each(['same-site', 'cross-site'])('refuses Sec-Fetch-Site: %s with 403, even without an Origin', (secFetchSite) => {
    expect(judge({ origin: undefined, secFetchSite })).toMatchObject({ ok: false, statusCode: 403, message: `Cross-site request refused (Sec-Fetch-Site: ${secFetchSite})` })
  })

  it('takes the configured origins behind a proxy instead', () => {
    const proxied = { allowedOrigins: ['https://owlat.example.com'] }
    expect(judge({ ...proxied, origin: 'https://owlat.example.com' })).toEqual({ ok: true })
    expect(judge({ ...proxied, origin: APP })).toMatchObject({ ok: false, statusCode: 403 })
  })
})
