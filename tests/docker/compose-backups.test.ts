/**
 * Backup archives on a real engine (`owlat backup`, `owlat restore FILE`): the compose driver's
 * archive of the data volumes, `.env` and compose file through the sidecar's signed API, a
 * restore as a job with its undo backup, retention, and the refusals that change nothing.
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type Docker from 'dockerode'
import { execa } from 'execa'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { backupListSchema, type BackupArchive } from '../../shared/schemas/backup'
import type { Job } from '../../shared/schemas/job'
import { startSidecar, type SidecarHandle } from '../../sidecar/index'
import { execIn } from '../../sidecar/drivers/docker-engine'
import { runCli } from '../cli/helpers'
import { instanceSecret, SidecarClient } from '../sidecar/helpers'
import { buildVersion } from './images'
import { containersByService, downStack, makeStack, requireDocker, SKIP_DOCKER, stackConfig, type TestStack } from './stack'

const INSTALLED = '1.0.0'
const CLI = { email: 'operator@host', via: 'cli' as const }

describe.skipIf(SKIP_DOCKER)('backup archives on a real engine', { timeout: 240_000 }, () => {
  let docker: Docker
  let stack: TestStack | null = null
  let sidecar: SidecarHandle | null = null
  const savedEnv = { ...process.env }
  const lines: string[] = []

  beforeAll(async () => {
    docker = await requireDocker()
    await buildVersion(INSTALLED)
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
    lines.length = 0
  })

  afterAll(() => {
    process.env = savedEnv
  })

  async function startStack(env: Record<string, string> = {}): Promise<{ client: SidecarClient, s: TestStack }> {
    const s = makeStack(INSTALLED)
    stack = s
    writeFileSync(join(s.dir, '.env'), 'OWLAT_TEST_MARK=before\n')
    Object.assign(process.env, s.env, env)
    sidecar = await startSidecar(stackConfig(s), { log: line => lines.push(line) })
    const client = new SidecarClient(sidecar.url, instanceSecret(s.dataDir))
    await writeData(s, 'marker', 'as-backed-up')
    return { client, s }
  }

  async function store(s: TestStack) {
    return (await containersByService(docker, s.project)).store!
  }

  async function writeData(s: TestStack, name: string, text: string): Promise<void> {
    const out = await execIn(docker, (await store(s)).id, ['sh', '-c', `echo ${text} > /data/${name}`])
    expect(out.exitCode).toBe(0)
  }

  async function readData(s: TestStack, name: string): Promise<string | null> {
    const out = await execIn(docker, (await store(s)).id, ['cat', `/data/${name}`])
    return out.exitCode === 0 ? out.stdout.trim() : null
  }

  async function list(client: SidecarClient): Promise<BackupArchive[]> {
    const answer = await client.request('GET', '/v1/backups')
    expect(answer.status).toBe(200)
    return backupListSchema.parse(answer.body).backups
  }

  async function restore(client: SidecarClient, file: string): Promise<Job> {
    const { jobId } = await client.restoreBackup({ file, requestedBy: CLI })
    return client.waitForJob(jobId, undefined, 120_000)
  }

  it('backs up the volume, .env and compose file; a restore job brings them back and leaves an undo backup that reverses it', async () => {
    const { client, s } = await startStack()
    const { backup } = await client.createBackup('manual')
    expect(backup.file).toMatch(/^owlat-\d{8}-\d{6}\.tar\.gz$/)
    expect(backup).toMatchObject({ version: INSTALLED, reason: 'manual', volumes: [`${s.project}_data`] })
    // The stateful service was paused only while its volume was copied, and the log says so.
    expect(lines.join('\n')).toMatch(/paused store while their volumes are copied[\s\S]*resumed store after/)
    expect((await store(s)).state).toBe('running')
    const { stdout } = await execa('tar', ['-tzf', join(s.dir, 'backups', backup.file)])
    expect(stdout.split('\n')).toEqual(expect.arrayContaining([
      'owlat-backup/manifest.json', `owlat-backup/volumes/${s.project}_data.tar`, 'owlat-backup/files/.env', 'owlat-backup/files/docker-compose.yml',
    ]))
    expect((await list(client)).map(b => b.file)).toEqual([backup.file])
    // The download link's bytes are the archive's, as recorded.
    const download = await client.downloadBackup(backup.file)
    const downloaded = Buffer.from(await new Response(download.stream).arrayBuffer())
    expect(download.bytes).toBe(backup.bytes)
    expect(createHash('sha256').update(downloaded).digest('hex')).toBe(backup.sha256)

    // Everything changes after the backup.
    await writeData(s, 'marker', 'changed-later')
    await writeData(s, 'added-later', 'new')
    writeFileSync(join(s.dir, '.env'), 'OWLAT_TEST_MARK=after\n')

    const job = await restore(client, backup.file)
    expect(job, JSON.stringify(job.steps.map(st => [st.name, st.status, st.error]))).toMatchObject({ kind: 'restore', status: 'succeeded', fromVersion: INSTALLED, toVersion: INSTALLED })
    expect(job.steps.filter(st => st.status === 'skipped').map(st => st.name)).toEqual(['stage', 'pull', 'deploy-functions'])
    expect(await readData(s, 'marker')).toBe('as-backed-up')
    expect(await readData(s, 'added-later')).toBeNull()
    expect(readFileSync(join(s.dir, '.env'), 'utf8')).toBe('OWLAT_TEST_MARK=before\n')

    // The undo backup holds the state the restore replaced, named so the operator can put it back.
    const undo = (await list(client)).find(b => b.reason === 'before-restore')!
    expect(undo).toMatchObject({ jobId: job.id })
    expect(undo.file).toMatch(/^owlat-\d{8}-\d{6}-before-restore\.tar\.gz$/)
    expect(job.steps.find(st => st.name === 'backup')!.log.join('\n')).toContain(`owlat restore ${undo.file} puts it back`)
    const undone = await restore(client, undo.file)
    expect(undone.status).toBe('succeeded')
    expect(await readData(s, 'marker')).toBe('changed-later')
    expect(await readData(s, 'added-later')).toBe('new')
    expect(readFileSync(join(s.dir, '.env'), 'utf8')).toBe('OWLAT_TEST_MARK=after\n')
  })

  it('owlat backup then owlat restore FILE --yes round-trip the volume through the CLI, and --list shows both archives', async () => {
    const { client, s } = await startStack()
    const backup = await runCli(['backup'], s.env)
    expect(backup.exitCode, backup.stderr).toBe(0)
    const file = /(owlat-\d{8}-\d{6}\.tar\.gz)/.exec(backup.stdout)?.[1]
    expect(file, backup.stdout).toBeDefined()
    expect(backup.stdout).toContain('paused while those are copied')

    await writeData(s, 'marker', 'changed-later')
    const restored = await runCli(['restore', `backups/${file}`, '--yes'], s.env)
    expect(restored.exitCode, restored.stderr + restored.stdout).toBe(0)
    expect(restored.stdout).toContain(`Restored ${file}: Owlat runs ${INSTALLED}`)
    expect(restored.stdout).toMatch(/To undo: owlat restore owlat-\d{8}-\d{6}-before-restore\.tar\.gz/)
    expect(await readData(s, 'marker')).toBe('as-backed-up')

    const listed = await runCli(['backup', '--list'], s.env)
    expect(listed.exitCode, listed.stderr).toBe(0)
    expect(listed.stdout).toContain(file)
    expect(listed.stdout).toMatch(/-before-restore\.tar\.gz .*before-restore/)
    expect((await list(client)).length).toBe(2)
  })

  it('undoes a restore whose stack does not come up: the undo archive goes back, and the job ends rolled back', async () => {
    const { client, s } = await startStack({ OWLAT_VERIFY_TIMEOUT_MS: '8000' })
    const good = readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')
    // An archive whose compose file gives the web a healthcheck that never passes.
    const broken = parse(good) as { services: Record<string, Record<string, unknown>> }
    broken.services.web!.healthcheck = { test: ['CMD', 'false'], interval: '1s', timeout: '1s', retries: 1 }
    writeFileSync(join(s.dir, 'docker-compose.yml'), stringify(broken))
    const { backup } = await client.createBackup('manual')
    writeFileSync(join(s.dir, 'docker-compose.yml'), good)
    await writeData(s, 'marker', 'changed-later')

    const job = await restore(client, backup.file)

    expect(job.status, JSON.stringify(job.steps.map(st => [st.name, st.status, st.error]))).toBe('rolled_back')
    const status = Object.fromEntries(job.steps.map(st => [st.name, st.status]))
    expect(status).toMatchObject({ 'promote': 'succeeded', 'verify': 'failed', 'restore': 'succeeded', 'verify-restore': 'succeeded' })
    expect(job.reason).toMatch(/verify failed: .*web/)
    // What ran before the restore is back: the data, the compose file, healthy containers.
    expect(await readData(s, 'marker')).toBe('changed-later')
    expect(readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')).toBe(good)
    const web = await docker.getContainer((await containersByService(docker, s.project)).web!.id).inspect()
    expect(web.Config.Healthcheck?.Test).not.toEqual(['CMD', 'false'])
  })

  it('keeps the newest OWLAT_BACKUP_KEEP archives, pruning the oldest after a new one', async () => {
    const { client, s } = await startStack({ OWLAT_BACKUP_KEEP: '2' })
    const taken: string[] = []
    for (let i = 0; i < 3; i++) {
      if (i > 0) await new Promise(resolve => setTimeout(resolve, 1100))
      const created = await client.createBackup('manual')
      taken.push(created.backup.file)
      expect(created.pruned).toEqual(i === 2 ? [taken[0]] : [])
    }
    expect((await list(client)).map(b => b.file)).toEqual([taken[2], taken[1]])
    expect(readdirSync(join(s.dir, 'backups')).filter(f => f.startsWith('owlat-')).sort()).toEqual([taken[1], `${taken[1]}.json`, taken[2], `${taken[2]}.json`])
  })

  it('refuses an unknown, a path-like and a tampered file, changing nothing', async () => {
    const { client, s } = await startStack()
    const { backup } = await client.createBackup('manual')
    await writeData(s, 'marker', 'changed-later')
    const compose = readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')

    const refused = async (file: string, pattern: RegExp) => {
      const answer = await client.request('POST', '/v1/restores', { file, requestedBy: CLI })
      expect(answer.status).toBe(400)
      expect((answer.body as { error: string }).error).toMatch(pattern)
    }
    await refused('owlat-20200101-000000.tar.gz', /not a complete backup/)
    await refused('../../etc/passwd', /not a backup archive name/)
    await refused(`../backups/${backup.file}`, /not a backup archive name/)
    // A download takes only listed names too.
    expect((await client.request('GET', '/v1/backups/owlat-20200101-000000.tar.gz')).status).toBe(404)
    expect((await client.request('GET', `/v1/backups/${encodeURIComponent('../docker-compose.yml')}`)).status).toBe(400)

    // One byte changed in the archive: its recorded sha256 no longer matches.
    const path = join(s.dir, 'backups', backup.file)
    const bytes = readFileSync(path)
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff
    writeFileSync(path, bytes)
    await refused(backup.file, /was changed after it was written/)

    expect((await client.listJobs(10))).toEqual([])
    expect((await list(client)).map(b => b.reason)).toEqual(['manual'])
    expect(await readData(s, 'marker')).toBe('changed-later')
    expect(readFileSync(join(s.dir, 'docker-compose.yml'), 'utf8')).toBe(compose)
    expect(existsSync(join(s.dir, 'backups'))).toBe(true)
  })
})
