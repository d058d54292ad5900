/**
 * Offline release bundles on the compose driver against a real engine, with no registry to pull
 * from: the release's images live in a registry of their own (a second `docker-registry` on a free
 * port) only long enough for `release:bundle` to save them with their registry manifests; then
 * that registry stops and the engine forgets the images. The bundle, imported through the CLI
 * into the in-process updater, loads them, and the update runs from them; a bundle with a byte
 * changed is refused and loads nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { execa, type ResultPromise } from 'execa'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildReleaseBundle } from '../../scripts/release-bundle'
import { artifactNames } from '../../shared/release-artifacts'
import { sidecarHealthSchema } from '../../shared/schemas/job'
import { startSidecar, type SidecarHandle } from '../../sidecar/index'
import { BUNDLED_IMAGES_FILE } from '../../sidecar/drivers/bundled-images'
import { runCli } from '../cli/helpers'
import { freePort } from '../setup/ports'
import { instanceSecret, jobRequest, SidecarClient } from '../sidecar/helpers'
import { buildVersion, REGISTRY, storeImage, webImage } from './images'
import { containersByService, downStack, makeStack, requireDocker, SKIP_DOCKER, stackCompose, stackConfig, type TestStack } from './stack'

const INSTALLED = '1.0.0'
const BUNDLED = '1.4.0'

/** A registry of the release's own on a free port, running until `stop`. */
async function startRegistry(): Promise<{ address: string, stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'owlat-bundle-registry-'))
  const address = `127.0.0.1:${await freePort()}`
  const config = join(dir, 'registry.yml')
  writeFileSync(config, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: ${address}\n`)
  const child: ResultPromise = execa('docker-registry', ['serve', config], { reject: false, stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://${address}/v2/`).then(r => r.status === 200, () => false)) break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return {
    address,
    stop: async () => {
      child.kill('SIGTERM')
      await child
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

describe.skipIf(SKIP_DOCKER)('offline release bundles on the compose driver', { timeout: 240_000 }, () => {
  let docker: Docker
  let stack: TestStack | null = null
  let sidecar: SidecarHandle | null = null
  let bundle: string
  /** What the release pins: in the bundle's registry, which is gone by the time it installs. */
  let pinned: { web: string, store: string }
  let compose: string
  let publisher: string
  let registry: string
  const out = mkdtempSync(join(tmpdir(), 'owlat-docker-bundles-'))
  const savedEnv = { ...process.env }

  beforeAll(async () => {
    docker = await requireDocker()
    await buildVersion(INSTALLED)
    await buildVersion(BUNDLED)
    const own = await startRegistry()
    registry = own.address
    try {
      // The release's images, pushed to its own registry and pinned by the digests it reported.
      const refs: Record<'web' | 'store', string> = { web: '', store: '' }
      for (const [service, image] of [['web', webImage(BUNDLED)], ['store', storeImage(BUNDLED)]] as const) {
        await execa('docker', ['pull', image])
        const moved = image.replace(REGISTRY, registry)
        await execa('docker', ['tag', image, moved])
        await execa('docker', ['push', moved])
        const digests = JSON.parse((await execa('docker', ['image', 'inspect', '--format', '{{json .RepoDigests}}', moved])).stdout) as string[]
        refs[service] = `${moved}@${digests.find(d => d.startsWith(moved.split(':').slice(0, -1).join(':')))!.split('@')[1]}`
      }
      pinned = refs
      compose = stackCompose(BUNDLED).replaceAll(webImage(BUNDLED), pinned.web).replaceAll(storeImage(BUNDLED), pinned.store)
      // Signed with a stack's key: every stack in this file shares one data dir's key through `publisher`.
      const s = makeStack(INSTALLED, {})
      publisher = s.dataDir
      const dir = s.release(BUNDLED, compose)
      bundle = (await buildReleaseBundle([BUNDLED, '--from', dir, '--key', join(s.dataDir, 'keys', 'release-signing.pem'), '--out', out])).file
    }
    finally {
      await own.stop()
    }
    // The engine forgets them: only the bundle has them now.
    for (const image of [webImage(BUNDLED), storeImage(BUNDLED)]) {
      const id = (await docker.getImage(image).inspect()).Id
      await execa('docker', ['rmi', '-f', id])
    }
  })

  afterEach(async () => {
    await sidecar?.close()
    sidecar = null
    if (stack) {
      await downStack(stack)
      rmSync(stack.dir, { recursive: true, force: true })
    }
    stack = null
    process.env = { ...savedEnv }
  })

  afterAll(() => {
    process.env = savedEnv
  })

  /** A stack at INSTALLED whose updater trusts the publisher's key and allows the bundle's registry. */
  async function startStack(): Promise<{ client: SidecarClient, stack: TestStack, env: Record<string, string> }> {
    const s = makeStack(INSTALLED)
    stack = s
    // Signed by the publisher: this stack's updater trusts that key, and the images come from its registry.
    const key = readFileSync(join(publisher, 'keys', 'release-signing.pub.pem'), 'utf8')
    const env = { ...s.env, OWLAT_RELEASE_PUBLIC_KEY: key, OWLAT_ALLOWED_IMAGE_PREFIXES: `${REGISTRY}/owlat/,${registry}/owlat/`, OWLAT_RELEASE_DIR: join(s.dataDir, 'cli-releases') }
    Object.assign(process.env, env)
    sidecar = await startSidecar(stackConfig({ ...s, env }), { log: () => {} })
    return { client: new SidecarClient(sidecar.url, instanceSecret(s.dataDir)), stack: s, env }
  }

  it('refuses a bundle with one byte changed in its images, and loads nothing', async () => {
    const { env } = await startStack()
    const bytes = readFileSync(bundle)
    const at = bytes.length - 4096
    bytes[at] = bytes[at]! ^ 0x01
    const tampered = join(out, 'tampered.tar')
    writeFileSync(tampered, bytes)
    const result = await runCli(['bundle', 'import', tampered], env)
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('bundle refused, nothing was kept: the bundle\'s signature does not verify')
    await expect(docker.getImage(pinned.web).inspect()).rejects.toMatchObject({ statusCode: 404 })
    expect(await fetch(`http://${registry}/v2/`).then(() => 'up', () => 'gone')).toBe('gone')
  })

  it('imports through the CLI and installs the release from the loaded images, with no registry to pull from', async () => {
    const { client, stack: s, env } = await startStack()
    const imported = await runCli(['bundle', 'import', bundle], env)
    expect(imported.exitCode, imported.stderr).toBe(0)
    expect(imported.stdout).toContain(`✔ loaded ${pinned.web}`)
    expect(imported.stdout).toContain(`✔ release ${BUNDLED} verified and kept in ${env.OWLAT_RELEASE_DIR}`)
    const loaded = JSON.parse(readFileSync(join(s.dataDir, 'updater', BUNDLED_IMAGES_FILE), 'utf8')) as Record<string, string>
    expect(Object.keys(loaded).sort()).toEqual([pinned.store, pinned.web].sort())

    const accepted = await client.request('POST', '/v1/jobs', jobRequest(s.dataDir, BUNDLED, {}, env.OWLAT_RELEASE_DIR!))
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202)
    const job = await client.waitForJob((accepted.body as { jobId: string }).jobId, undefined, 120_000)
    expect(job.status, JSON.stringify(job.steps.filter(st => st.error))).toBe('succeeded')
    expect(job.steps.find(st => st.name === 'pull')!.log).toContain('every image was loaded from a verified offline release bundle: nothing to pull')
    const after = await containersByService(docker, s.project)
    expect(after.web!.imageId).toBe(loaded[pinned.web])
    expect(after.store!.imageId).toBe(loaded[pinned.store])
    const health = sidecarHealthSchema.parse((await client.request('GET', '/v1/health')).body)
    expect(health.version).toBe(BUNDLED)
    // The release's own file is what runs; the images come through the override beside it.
    expect(readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')).toBe(compose)
    expect(readFileSync(join(s.dir, 'docker-compose.yml.bundled-images.yml'), 'utf8')).toContain(loaded[pinned.web]!)
    expect(artifactNames(BUNDLED).manifest).toBe(`release-${BUNDLED}.json`)
  })
})
