/**
 * The checks beyond the compose model, produced for real: a port held by a listener on this
 * host, the disk figures statfs reports, the admin key against the Convex stand-in run as a
 * process (tests/docker/stand-ins/convex-backend.mjs). Ports held by other containers, and the
 * whole set refusing an update, are tests/docker/checks.test.ts.
 */
import { mkdtempSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa, type ResultPromise } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { parseStackModel } from '../../shared/node/checks'
import { checkAdminKey, checkDisk, checkPorts, deployCredentials, diskPlace, findTakenPorts, type DiskPlace } from '../../shared/node/checks/host'
import { freePort } from '../setup/ports'

const stackWithPort = (port: number) => parseStackModel(stringify({ services: { web: { image: 'ghcr.io/owlat/web:1.0.0', ports: [`127.0.0.1:${port}:3000`] } } }))

describe('ports', () => {
  let server: Server
  let held: number
  beforeAll(async () => {
    held = await freePort()
    server = createServer()
    await new Promise<void>(resolve => server.listen(held, '127.0.0.1', resolve))
  })
  afterAll(() => new Promise<void>(resolve => server.close(() => resolve())))

  it('fail (blocking) when another process on the host holds a published port', async () => {
    const model = stackWithPort(held)
    const check = checkPorts(model, await findTakenPorts(model, 'no-such-project', null))
    expect(check).toMatchObject({ status: 'fail', blocking: true })
    expect(check.message).toContain(`${held}/tcp (web) is held by another process on this host`)
  })

  it('pass when the port is free', async () => {
    const model = stackWithPort(await freePort())
    expect(checkPorts(model, await findTakenPorts(model, 'no-such-project', null)).status).toBe('ok')
  })
})

describe('disk', () => {
  const GiB = 1024 ** 3
  const place = (label: string, free: number, total: number, dev = 1): DiskPlace => ({ label, path: `/${label}`, free, total, dev })

  it('reads the figures of a real filesystem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owlat-disk-'))
    const real = await diskPlace('backups', dir)
    expect(real!.total).toBeGreaterThan(0)
    expect(real!.free).toBeLessThanOrEqual(real!.total)
    const check = checkDisk({ data: null, backups: real }, { backupBytes: 1, imageBytes: 1 })
    expect(['ok', 'warn']).toContain(check.status)
    expect(check.message).toMatch(/backups \(.+\): .+ free of .+ \(\d+ %\)/)
  })

  it('warn under 20 % free, with the figure', () => {
    const check = checkDisk({ data: place('Convex data', 15 * GiB, 100 * GiB), backups: null }, { backupBytes: GiB, imageBytes: GiB })
    expect(check).toMatchObject({ status: 'warn', blocking: true })
    expect(check.message).toContain('15.0 GiB free of 100.0 GiB (15 %)')
  })

  it('fail when the new images and a backup do not fit on one filesystem', () => {
    const check = checkDisk({ data: place('Convex data', 3 * GiB, 10 * GiB), backups: place('backups', 3 * GiB, 10 * GiB) }, { backupBytes: 2 * GiB, imageBytes: 2 * GiB })
    expect(check).toMatchObject({ status: 'fail', blocking: true })
    expect(check.message).toContain('need 4.0 GiB')
    // The same needs fit when backups live on another disk.
    expect(checkDisk({ data: place('Convex data', 3 * GiB, 10 * GiB), backups: place('backups', 3 * GiB, 10 * GiB, 2) }, { backupBytes: 2 * GiB, imageBytes: 2 * GiB }).status).toBe('ok')
  })
})

describe('Convex admin key', () => {
  let backend: ResultPromise
  let url: string
  let goodKey: string
  const secret = 'a3f1c9e07b5d2486f0e1d3c5b7a9e2f4c6d8b0a1e3f5c7d9b2a4c6e8f0a1b3c5'

  beforeAll(async () => {
    const port = await freePort()
    const env = { CONVEX_PORT: String(port), CONVEX_DATA_DIR: mkdtempSync(join(tmpdir(), 'owlat-convex-')), INSTANCE_SECRET: secret, INSTANCE_NAME: 'owlat' }
    goodKey = (await execa('node', ['tests/docker/stand-ins/convex-backend.mjs', 'generate-admin-key'], { env })).stdout.split('\n')[1]!
    backend = execa('node', ['tests/docker/stand-ins/convex-backend.mjs'], { env })
    url = `http://127.0.0.1:${port}`
    for (let i = 0; i < 100; i++) {
      if (await fetch(`${url}/version`).then(r => r.ok, () => false)) break
      await new Promise(r => setTimeout(r, 100))
    }
  })
  afterAll(() => {
    backend.kill()
  })

  const deploy = (key: string) => parseStackModel(stringify({ services: { 'convex-deploy': { image: 'ghcr.io/owlat/convex-deploy:1.0.0', profiles: ['deploy'], environment: { CONVEX_SELF_HOSTED_URL: url, CONVEX_SELF_HOSTED_ADMIN_KEY: key } } } }))

  it('pass when the backend accepts the key', async () => {
    const check = await checkAdminKey(deployCredentials(deploy(goodKey), ['convex-deploy']), true)
    expect(check).toMatchObject({ status: 'ok', blocking: true })
  })

  it('fail (blocking when the update deploys functions) when the backend refuses it', async () => {
    const check = await checkAdminKey(deployCredentials(deploy('owlat|0000'), ['convex-deploy']), true)
    expect(check).toMatchObject({ status: 'fail', blocking: true })
    expect(check.message).toContain('HTTP 401')
    expect((await checkAdminKey(deployCredentials(deploy(''), ['convex-deploy']), true)).message).toContain('empty')
  })

  it('skip when nothing deploys with a key', async () => {
    expect((await checkAdminKey(deployCredentials(deploy(goodKey), []), false)).status).toBe('skip')
  })
})
