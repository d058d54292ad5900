/**
 * The compose driver against a real Docker engine (scripts/setup-docker.sh): jobs go through the
 * signed API, the runner and the journal of an in-process sidecar (`OWLAT_DRIVER=compose`);
 * images come from the registry on 127.0.0.1:5000; every container runs `network_mode: none`.
 * What every driver does the same way (restore, resume, backups) is the driver contract's
 * (tests/drivers/); this file keeps what only compose does.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Job } from '../../shared/schemas/job'
import { sidecarHealthSchema } from '../../shared/schemas/job'
import { startSidecar, type SidecarHandle } from '../../sidecar/index'
import { listBackups, restoreBackup } from '../../sidecar/drivers/compose-backup'
import { execIn, HELPER_LABEL } from '../../sidecar/drivers/docker-engine'
import { execa } from 'execa'
import { stringify } from 'yaml'
import { instanceSecret, jobRequest, SidecarClient } from '../sidecar/helpers'
import { buildVersion, REGISTRY, storeImage, updaterImage, webImage } from './images'
import {
  containersByService, downStack, imageId, makeStack, requireDocker, SKIP_DOCKER, stackCompose, stackConfig, type TestStack,
} from './stack'

const INSTALLED = '1.0.0'
const GOOD = '1.1.0'
/** Its web image is never pushed: pulling it must fail. */
const MISSING = '1.3.0'

const step = (job: Job, name: string) => job.steps.find(s => s.name === name)!

async function readVolumeFile(docker: Docker, containerId: string, path: string): Promise<string> {
  const out = await execIn(docker, containerId, ['cat', path])
  if (out.exitCode !== 0) throw new Error(`cat ${path} exited with ${out.exitCode}: ${out.stderr}`)
  return out.stdout
}

describe.skipIf(SKIP_DOCKER)('compose driver on a real engine', { timeout: 180_000 }, () => {
  let docker: Docker
  let stack: TestStack | null = null
  let sidecar: SidecarHandle | null = null
  const savedEnv = { ...process.env }

  beforeAll(async () => {
    docker = await requireDocker()
    for (const version of [INSTALLED, GOOD]) await buildVersion(version)
    await buildVersion(MISSING, { pushWeb: false })
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

  /** A stack at INSTALLED, brought up by the sidecar's start, with a file written into its named volume. */
  async function startStack(): Promise<{ client: SidecarClient, stack: TestStack }> {
    const s = makeStack(INSTALLED)
    stack = s
    // The driver and the job admission read their settings from the process environment.
    Object.assign(process.env, s.env)
    sidecar = await startSidecar(stackConfig(s), { log: () => {} })
    const client = new SidecarClient(sidecar.url, instanceSecret(s.dataDir))
    const health = sidecarHealthSchema.parse((await client.request('GET', '/v1/health')).body)
    expect(health.driver).toBe('compose')
    const before = await containersByService(docker, s.project)
    await execIn(docker, before.store!.id, ['sh', '-c', 'echo written-before-the-update > /data/marker'])
    return { client, stack: s }
  }

  async function submit(client: SidecarClient, s: TestStack, version: string, compose: string): Promise<Job> {
    const accepted = await client.request('POST', '/v1/jobs', jobRequest(s.dataDir, version, {}, s.release(version, compose)))
    expect(accepted.status).toBe(202)
    return client.waitForJob((accepted.body as { jobId: string }).jobId, undefined, 120_000)
  }

  it('updates: pulls from the registry, deploys functions, recreates, keeps the volume, backs it up', async () => {
    const { client, stack: s } = await startStack()
    const before = await containersByService(docker, s.project)
    const installedCompose = readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')

    const job = await submit(client, s, GOOD, stackCompose(GOOD))

    expect(job.status, JSON.stringify(job.steps.filter(st => st.error))).toBe('succeeded')
    expect(job.steps.map(st => [st.name, st.status])).toEqual([
      ['preflight', 'succeeded'], ['backup', 'succeeded'], ['stage', 'succeeded'], ['pull', 'succeeded'],
      ['deploy-functions', 'succeeded'], ['promote', 'succeeded'], ['recreate', 'succeeded'], ['verify', 'succeeded'],
      ['watch', 'succeeded'], ['commit', 'succeeded'],
    ])
    const after = await containersByService(docker, s.project)
    for (const service of ['web', 'store'] as const) {
      expect(after[service]!.id).not.toBe(before[service]!.id)
      expect(after[service]!.running).toBe(true)
      expect(after[service]!.health).toBe('healthy')
    }
    expect(after.web!.imageId).toBe(await imageId(docker, webImage(GOOD)))
    expect(after.store!.imageId).toBe(await imageId(docker, storeImage(GOOD)))
    expect(await readVolumeFile(docker, after.store!.id, '/data/marker')).toBe('written-before-the-update\n')
    // convex-deploy ran from the new release's image, against the same volume.
    expect(await readVolumeFile(docker, after.store!.id, '/data/functions-version')).toBe(`${GOOD}\n`)

    expect(readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')).toBe(stackCompose(GOOD))
    expect(readFileSync(join(s.dir, 'docker-compose.prev.yml'), 'utf8')).toBe(installedCompose)
    expect(existsSync(join(s.dir, 'docker-compose.next.yml'))).toBe(false)

    const volume = `${s.project}_data`
    const archive = join(s.dir, 'backups', job.id, `${volume}.tar`)
    expect(step(job, 'backup').log.some(line => line.startsWith(`backed up volume ${volume} to ${archive} (`))).toBe(true)
    expect(listBackups(join(s.dir, 'backups')).map(b => b.manifest.jobId)).toEqual([job.id])

    const health = sidecarHealthSchema.parse((await client.request('GET', '/v1/health')).body)
    expect(health.version).toBe(GOOD)
    expect(health.services.map(sv => [sv.name, sv.version, sv.health])).toEqual([['store', GOOD, 'healthy'], ['web', GOOD, 'healthy']])
  })

  it('fails at pull when an image is missing from the registry, leaving the stack and its file exactly as before', async () => {
    const { client, stack: s } = await startStack()
    expect((await fetch(`http://${REGISTRY}/v2/owlat/web/manifests/${MISSING}`)).status).toBe(404)
    const before = await containersByService(docker, s.project)
    const compose = readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')

    const job = await submit(client, s, MISSING, stackCompose(MISSING))

    expect(job.status).toBe('failed')
    expect(job.reason).toMatch(/^pull failed: .*pull.* exited with 1: .*; nothing was changed$/)
    expect(step(job, 'promote').status).toBe('pending')
    const after = await containersByService(docker, s.project)
    expect(Object.keys(after)).toEqual(Object.keys(before))
    for (const service of Object.keys(before)) {
      expect(after[service]).toMatchObject({ id: before[service]!.id, imageId: before[service]!.imageId, running: true })
    }
    expect(readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')).toBe(compose)
    expect(existsSync(join(s.dir, 'docker-compose.next.yml'))).toBe(false)
    expect(existsSync(join(s.dir, 'docker-compose.prev.yml'))).toBe(false)
  })

  it('takes a backup that restores the volume\'s content', async () => {
    const { client, stack: s } = await startStack()
    const job = await submit(client, s, GOOD, stackCompose(GOOD))
    expect(job.status).toBe('succeeded')
    const [backup] = listBackups(join(s.dir, 'backups'))
    expect(backup!.manifest).toMatchObject({ jobId: job.id, project: s.project, fromVersion: INSTALLED })
    expect(backup!.manifest.volumes.map(v => v.volume)).toEqual([`${s.project}_data`])

    // After the backup the volume changes: the marker is overwritten, a file appears.
    const store = (await containersByService(docker, s.project)).store!
    await execIn(docker, store.id, ['sh', '-c', 'echo changed-later > /data/marker && echo new > /data/added-later'])
    const restoreImage = storeImage(GOOD)
    // The volume is in use by the running store: restoring under it is refused.
    await expect(restoreBackup(docker, backup!.dir, restoreImage)).rejects.toThrow(/is in use by running/)

    await docker.getContainer(store.id).stop({ t: 1 })
    await restoreBackup(docker, backup!.dir, restoreImage)
    await docker.getContainer(store.id).start()

    expect(await readVolumeFile(docker, store.id, '/data/marker')).toBe('written-before-the-update\n')
    const added = await execIn(docker, store.id, ['test', '-e', '/data/added-later'])
    expect(added.exitCode).toBe(1)
    // The backup was taken before deploy-functions ran, so the restored volume has no functions-version.
    expect((await execIn(docker, store.id, ['test', '-e', '/data/functions-version'])).exitCode).toBe(1)
  })

  it('keeps only OWLAT_BACKUP_KEEP backups', async () => {
    const s = makeStack(INSTALLED)
    stack = s
    Object.assign(process.env, s.env, { OWLAT_BACKUP_KEEP: '1' })
    sidecar = await startSidecar(stackConfig(s), { log: () => {} })
    const client = new SidecarClient(sidecar.url, instanceSecret(s.dataDir))
    const first = await submit(client, s, GOOD, stackCompose(GOOD))
    expect(first.status).toBe('succeeded')
    const second = await client.request('POST', '/v1/jobs', jobRequest(s.dataDir, INSTALLED, { kind: 'rollback' }, s.release(INSTALLED, stackCompose(INSTALLED))))
    expect(second.status).toBe(202)
    const rollback = await client.waitForJob((second.body as { jobId: string }).jobId, undefined, 120_000)
    expect(rollback.status).toBe('succeeded')
    expect(step(rollback, 'backup').log).toContain(`removed old backup ${join(s.dir, 'backups', first.id)} (keeping 1, OWLAT_BACKUP_KEEP)`)
    expect(listBackups(join(s.dir, 'backups')).map(b => b.manifest.jobId)).toEqual([rollback.id])
  })

  // Refusing an unhealthy stack is the driver contract's (tests/drivers/); forcing past it is this driver's.
  it('updates an unhealthy stack when forced', async () => {
    const { client, stack: s } = await startStack()
    const web = (await containersByService(docker, s.project)).web!
    await docker.getContainer(web.id).stop({ t: 1 })
    const forced = await client.request('POST', '/v1/jobs', jobRequest(s.dataDir, GOOD, { force: true }, s.release(GOOD, stackCompose(GOOD))))
    const job = await client.waitForJob((forced.body as { jobId: string }).jobId, undefined, 120_000)
    expect(job.status).toBe('succeeded')
    expect(step(job, 'preflight').log).toContain('force: skipping the health check of the running stack')
  })

  it('merges the operator\'s docker-compose.override.yml into every file it applies, and verifies what that runs', async () => {
    const s = makeStack(INSTALLED)
    stack = s
    // The operator keeps the store on the installed image and gives it a setting of their own.
    const override = stringify({ services: { store: { image: storeImage(INSTALLED), environment: { OPERATOR_SETTING: 'kept' } } } })
    writeFileSync(join(s.dir, 'docker-compose.override.yml'), override)
    Object.assign(process.env, s.env)
    sidecar = await startSidecar(stackConfig(s), { log: () => {} })
    const client = new SidecarClient(sidecar.url, instanceSecret(s.dataDir))

    const job = await submit(client, s, GOOD, stackCompose(GOOD))

    // The release pins store at GOOD; what runs (and what verify checks) is the override's image.
    expect(job.status, JSON.stringify(job.steps.filter(st => st.error))).toBe('succeeded')
    const after = await containersByService(docker, s.project)
    expect(after.web!.imageId).toBe(await imageId(docker, webImage(GOOD)))
    expect(after.store!.imageId).toBe(await imageId(docker, storeImage(INSTALLED)))
    expect((await docker.getContainer(after.store!.id).inspect()).Config.Env).toContain('OPERATOR_SETTING=kept')
    expect(readFileSync(join(s.dir, 'docker-compose.override.yml'), 'utf8')).toBe(override)
  })

  it('skips deploy-functions with a reason when the release marks no deploy one-shot', async () => {
    const { client, stack: s } = await startStack()
    const job = await submit(client, s, GOOD, stackCompose(GOOD, { functions: false }))
    expect(job.status).toBe('succeeded')
    expect(step(job, 'deploy-functions')).toMatchObject({ status: 'skipped', log: ['the release marks no one-shot service for this step (label io.owlat.deploy-functions, or convex-deploy under the "deploy" profile)'] })
  })

  it('never recreates the updater\'s own service; once committed, a helper from its new image updates it', async () => {
    const s = makeStack(INSTALLED, { updater: true })
    stack = s
    // Without OWLAT_HELPER_IMAGE the backup container uses the image the updater runs.
    Object.assign(process.env, s.env)
    delete process.env.OWLAT_HELPER_IMAGE
    // In production the updater is already up (it is this process); here it is started by hand.
    const file = join(s.dir, 'docker-compose.yml')
    await execa('docker-compose', ['-p', s.project, '--project-directory', s.dir, '-f', file, 'up', '-d', 'updater'])
    sidecar = await startSidecar(stackConfig(s), { log: () => {} })
    const client = new SidecarClient(sidecar.url, instanceSecret(s.dataDir))
    const before = await containersByService(docker, s.project)

    const job = await submit(client, s, GOOD, stackCompose(GOOD, { updater: true }))

    expect(job.status).toBe('succeeded')
    expect(step(job, 'recreate').log[0]).toBe('up -d --remove-orphans store web (the updater\'s own service updater is left alone)')
    // The updater's own volume holds the journal recording this job: it is never backed up (or restored).
    expect(step(job, 'backup').log.filter(line => line.startsWith('backed up volume'))).toHaveLength(1)
    expect(step(job, 'backup').log).toContain(`not backing up ${s.project}_updater-data: the updater's own data`)
    const after = await containersByService(docker, s.project)
    expect(after.updater).toMatchObject({ id: before.updater!.id, imageId: await imageId(docker, updaterImage(INSTALLED)), running: true })
    expect(after.web!.imageId).toBe(await imageId(docker, webImage(GOOD)))

    const helperFilter = { all: true, filters: { label: [`${HELPER_LABEL}=self-update`], status: ['exited'] } }
    await expect.poll(async () => (await docker.listContainers(helperFilter)).length, { timeout: 20_000 }).toBe(1)
    const [listed] = await docker.listContainers(helperFilter)
    const helper = await docker.getContainer(listed!.Id).inspect()
    try {
      expect(helper.Config.Image).toBe(updaterImage(GOOD))
      expect(helper.HostConfig.VolumesFrom).toEqual([before.updater!.id])
      expect(helper.State.ExitCode).toBe(0)
      // What the helper's compose was asked to do, written into the updater's own volume.
      const args = await readVolumeFile(docker, after.updater!.id, '/data/self-update-args')
      expect(args).toBe(`${GOOD} -p ${s.project} --project-directory ${s.dir} -f ${file} up -d --no-deps updater\n`)
    }
    finally {
      await docker.getContainer(listed!.Id).remove({ force: true })
    }
  })

  it('serves service logs followed through the Engine API', async () => {
    const { client, stack: s } = await startStack()
    const store = (await containersByService(docker, s.project)).store!
    // A container's log is its pid 1's output: restart store with a command that prints, via the engine.
    const printer = await docker.createContainer({
      Image: storeImage(INSTALLED),
      Cmd: ['sh', '-c', 'echo hello from the store log; sleep 1000000'],
      Labels: { 'com.docker.compose.project': s.project, 'com.docker.compose.service': 'store', 'com.docker.compose.oneoff': 'False' },
      HostConfig: { NetworkMode: 'none' },
    })
    await docker.getContainer(store.id).stop({ t: 1 })
    await printer.start()
    try {
      await expect.poll(async () => (await client.request('GET', '/v1/services/store/logs?tail=10')).body, { timeout: 10_000 })
        .toMatchObject({ lines: ['hello from the store log'], entries: [expect.objectContaining({ line: 'hello from the store log' })] })
    }
    finally {
      await printer.remove({ force: true })
    }
    expect((await client.request('GET', '/v1/services/nope/logs')).status).toBe(404)
  })
})
