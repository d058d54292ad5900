/**
 * Everything the stack writes under its data dir (the instance secret, the release key, the
 * password hashes in web.sqlite, the updater's journal and the releases it kept) is the owner's
 * alone: folders 0700, files 0600, even under umask 000. The real stack runs an update first,
 * so the files a job writes are there too.
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSchema } from '../../shared/schemas/api'
import { isActiveStatus } from '../../shared/run-state'
import { ADMIN, startStack, waitFor, WEB, type Stack } from './stack'

let stack: Stack
let umask: number

beforeAll(async () => {
  // Forked test workers own their process: the stack, its scripts and the web inherit this.
  umask = process.umask(0)
  stack = await startStack()
}, 300_000)

afterAll(async () => {
  await stack?.stop()
  process.umask(umask)
})

describe('data dir permissions', () => {
  it('keeps every folder 0700 and every file 0600 under the data dir, whatever the umask', async () => {
    const login = await fetch(`${WEB}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })
    const cookie = login.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
    const started = await fetch(`${WEB}/api/system/updates`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ targetVersion: '1.3.0' }) })
    expect(started.status).toBe(202)
    const { runId } = await started.json() as { runId: string }
    const run = await waitFor('the update to end', async () => {
      const res = await fetch(`${WEB}/api/system/updates/${runId}`, { headers: { cookie } }).catch(() => null)
      if (res?.status !== 200) return undefined
      const parsed = runSchema.parse(await res.json())
      return isActiveStatus(parsed.status) ? undefined : parsed
    }, 90_000)
    expect(run.status).toBe('succeeded')

    const entries = ['.', ...readdirSync(stack.dataDir, { recursive: true, encoding: 'utf8' })]
    const modes = entries.map((entry) => {
      const stat = statSync(join(stack.dataDir, entry))
      return { entry, dir: stat.isDirectory(), mode: stat.mode & 0o777 }
    })
    // What a job and a running stack write is there to be judged.
    for (const expected of ['web.sqlite', 'web.sqlite-wal', 'instance-secret', 'session-password', 'keys/release-signing.pem', 'keys/release-signing.pub.pem', 'updater/journal.sqlite', 'updater/journal.sqlite-wal', 'updater/web.pid', 'stack/docker-compose.yml', 'stack/docker-compose.prev.yml', 'updater/releases/release-1.3.0.json', 'releases/release-1.3.0.json']) {
      expect(entries, expected).toContain(expected)
    }
    expect(modes.filter(m => m.mode !== (m.dir ? 0o700 : 0o600))).toEqual([])
  })
})
