/**
 * `owlat upgrade --rehearse [--version V]` against a real updater (its own process, local driver,
 * the fake web from tests/fixtures) on a bootstrapped demo instance at 1.2.2: the same plan as an
 * upgrade, a job of kind `rehearsal` on a copy of the data, its report, and the installed version
 * never changed.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliHistory, cliStatus, runCli, startDemoUpdater, stderrLines, type DemoInstance, type UpdaterProcess } from './helpers'

/** Lines that appear in this order in `text`. */
function expectInOrder(text: string, markers: string[]): void {
  const at = markers.map(marker => text.indexOf(marker))
  expect(at.every(i => i >= 0), `missing one of ${JSON.stringify(markers)} in:\n${text}`).toBe(true)
  expect([...at].sort((a, b) => a - b)).toEqual(at)
}

describe('owlat upgrade --rehearse', () => {
  let demo: DemoInstance
  let env: Record<string, string>
  let updater: UpdaterProcess

  const status = () => cliStatus(env)
  const jobs = () => cliHistory(env)

  beforeAll(async () => {
    ({ demo, env, updater } = await startDemoUpdater())
  })

  afterAll(async () => {
    await updater?.stop()
  })

  // More bad usages in arguments.test.ts: these two against the real updater, to show nothing starts.
  it.each([
    [['upgrade', '--rehearse', '--version', '1.3.0', '--try-again', '--yes'], 'owlat: --rehearse: cannot be combined with --try-again: a rehearsal may try any newer release, also one that failed here'],
    [['rollback', '--version', '1.2.2', '--rehearse'], 'owlat: only an update can be rehearsed: owlat upgrade --rehearse [--version V]'],
  ])('owlat %j is a usage error that starts nothing', async (args, line) => {
    const result = await runCli(args, env)
    expect(result.exitCode).toBe(2)
    expect(stderrLines(result)).toEqual([line])
    expect(result.stdout).toBe('')
    expect(await jobs()).toEqual([])
  })

  it('refuses to rehearse the installed version', async () => {
    const result = await runCli(['upgrade', '--rehearse', '--version', '1.2.2'], env)
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual(['owlat: 1.2.2 is already installed: nothing to rehearse'])
    expect(await jobs()).toEqual([])
  })

  it('rehearses a good release on a copy, prints the report and leaves 1.2.2 installed', async () => {
    // No --yes and no terminal: a rehearsal changes nothing that runs, so it needs no consent flag.
    const result = await runCli(['upgrade', '--rehearse', '--version', '1.3.0'], env)
    expect(result.exitCode, result.stdout + result.stderr + updater.output()).toBe(0)
    expect(result.stderr).toBe('')
    const out = result.stdout
    expect(out).toMatch(/^Rehearsal: 1\.2\.2 → 1\.3\.0 \(stable, published 2026-11-01\)$/m)
    expect(out).toContain('On a throwaway copy of the data, torn down at the end: 1.2.2 keeps running and stays installed.')
    // The same plan as an upgrade: path and checks, the disk check counting the copy.
    expect(out).toMatch(/^Path: 1\.2\.2 → 1\.3\.0$/m)
    expect(out).toMatch(/^ {2}✔ ok +free-disk +.*the rehearsal needs about /m)
    expect(out).toMatch(/^ {2}✔ ok +release-verifies /m)
    expect(out).toMatch(/^Job \S+ accepted: rehearsal of 1\.3\.0 on a copy of the data\. Ctrl-C detaches/m)
    // Followed live, each step under a rehearsal's label; never promoting or committing.
    expectInOrder(out, [
      '✔ Preflight checks',
      '✔ Copy the data',
      '✔ Stage the throwaway stack',
      '▸ Start the new version on the copy…',
      '✔ Verify the new version on the copy',
      '✔ Watch the new version on the copy',
      '✔ Tear down the rehearsal',
    ])
    expect(out).not.toMatch(/Promote|Commit|Recreate services/)
    // The report: each step's time, the expected downtime, the migrations, the result.
    const report = out.slice(out.indexOf('Rehearsal report: 1.2.2 → 1.3.0 on a copy of the data'))
    expect(report).not.toBe(out)
    expect(report).toMatch(/^ {2}✔ Copy the data +\d+ (ms|s)$/m)
    expect(report).toMatch(/^ {2}✔ Verify the new version on the copy +\d+ (ms|s)$/m)
    expect(report).toMatch(/^ {2}✔ Tear down the rehearsal +\d+ (ms|s)$/m)
    expect(report).toMatch(/^ {2}Total +\d+ (ms|s)$/m)
    expect(report).toMatch(/^Expected downtime of the real update: about \d+ (ms|s) \(start the new version on the copy \+ verify the new version on the copy\)$/m)
    expect(report).toMatch(/^Migrations: 1\.3\.0 declares no migration$/m)
    expect(report).toMatch(/^Result: ✔ passed: the new version ran on a copy of the data/m)
    expect(report).toMatch(/^✔ 1\.3\.0 passed its rehearsal; Owlat still runs 1\.2\.2\. To install it: owlat upgrade --version 1\.3\.0$/m)

    const current = await status()
    expect(current.version).toBe('1.2.2')
    expect(current.activeJob).toBeNull()
    const [job] = await jobs()
    expect(job).toMatchObject({ kind: 'rehearsal', fromVersion: '1.2.2', toVersion: '1.3.0', status: 'succeeded' })
    expect(job!.steps.map(s => s.name)).not.toContain('commit')
    // The copy is gone.
    const copies = join(demo.dataDir, 'rehearsals')
    expect(existsSync(copies) ? readdirSync(copies) : []).toEqual([])
  })

  it('history and logs --job word it as a rehearsal, not an update', async () => {
    const history = await runCli(['history'], env)
    expect(history.exitCode, history.stderr).toBe(0)
    expect(history.stdout).toMatch(/ {2}rehearsal of 1\.3\.0 +succeeded /)
    expect(history.stdout).not.toMatch(/update 1\.2\.2 → 1\.3\.0/)

    const [job] = await jobs()
    const logs = await runCli(['logs', '--job', job!.id], env)
    expect(logs.exitCode, logs.stderr).toBe(0)
    expect(logs.stdout).toMatch(new RegExp(`^Job ${job!.id}: rehearsal of 1\\.3\\.0, requested by `, 'm'))
    expect(logs.stdout).toContain('✔ Start the new version on the copy')
    expect(logs.stdout).toMatch(/^Expected downtime of the real update: about /m)
    expect(logs.stdout).toMatch(/^rehearsal of 1\.3\.0 succeeded$/m)
  })

  it('without --version rehearses the newest release through its required stop, hop by hop', async () => {
    const result = await runCli(['upgrade', '--rehearse', '--yes'], env)
    expect(result.exitCode, result.stdout + result.stderr + updater.output()).toBe(0)
    const out = result.stdout
    expect(out).toMatch(/^Rehearsal: 1\.2\.2 → 1\.3\.1 /m)
    expect(out).toMatch(/^Path: 1\.2\.2 → 1\.3\.0 → 1\.3\.1 \(required upgrade stops: 1\.3\.0\)$/m)
    expect(out).toMatch(/^Job \S+ accepted: rehearsal of 1\.3\.1 via 1\.3\.0 on a copy of the data\./m)
    expectInOrder(out, ['Hop 1 of 2: 1.2.2 → 1.3.0', '✔ Verify the new version on the copy', 'Hop 2 of 2: 1.3.0 → 1.3.1', '✔ Tear down the rehearsal'])
    const report = out.slice(out.indexOf('Rehearsal report: 1.2.2 → 1.3.0 → 1.3.1 on a copy of the data'))
    expect(report).not.toBe(out)
    expectInOrder(report, ['  Hop 1 of 2: 1.2.2 → 1.3.0', '  Hop 2 of 2: 1.3.0 → 1.3.1'])
    expect(report).toMatch(/^ {2}Total +\d+ (ms|s)$/m)
    expect(report).toMatch(/^Expected downtime of the real update: about \d+ (ms|s) \(.*, over 2 hops\)$/m)
    expectInOrder(report, ['Migrations:', '  1.3.0 declares no migration', '  1.3.1 declares no migration'])
    expect((await status()).version).toBe('1.2.2')
  })

  it('a bad release fails its rehearsal: the cause, no downtime measured, exit 1, still 1.2.2', async () => {
    const result = await runCli(['upgrade', '--rehearse', '--version', '1.4.0-beta.1'], env)
    expect(result.exitCode, result.stdout + result.stderr).toBe(1)
    const out = result.stdout
    expect(out).toMatch(/^✖ Verify the new version on the copy/m)
    expect(out).toMatch(/^✔ Tear down the rehearsal/m)
    expect(out).toMatch(/^Expected downtime of the real update: not measured: the rehearsal did not get through verify$/m)
    expect(out).toMatch(/^Result: failed: /m)
    expect(out).toMatch(/^Cause: Verify the new version on the copy failed: /m)
    expect(out).toMatch(/^The last lines web 1\.4\.0-beta\.1 wrote on the copy:$/m)
    expect(out).toMatch(/^What to do now: Nothing in production was changed and the copy of the data was thrown away\. Do not update to 1\.4\.0-beta\.1 until/m)
    expect(out).not.toMatch(/The stack may be down|was restored/)
    const lines = stderrLines(result)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^owlat: rehearsal of 1\.4\.0-beta\.1 failed: .* \(details: owlat logs --job \S+\)$/)
    expect((await status()).version).toBe('1.2.2')
    const [job] = await jobs()
    expect(job).toMatchObject({ kind: 'rehearsal', toVersion: '1.4.0-beta.1', status: 'failed' })
  })

  it('the upgrade\'s plan warns against a release whose latest rehearsal failed', async () => {
    const [rehearsal] = await jobs()
    expect(rehearsal).toMatchObject({ kind: 'rehearsal', toVersion: '1.4.0-beta.1', status: 'failed' })
    const result = await runCli(['upgrade', '--version', '1.4.0-beta.1', '--yes'], env)
    expect(result.stdout).toMatch(new RegExp(`^✖ The latest rehearsal of 1\\.4\\.0-beta\\.1 failed \\(.*\\): verify failed: .*\\(report: owlat logs --job ${rehearsal!.id}\\)$`, 'm'))
    // The rehearsal was no attempt here: the update itself still runs (and is restored, as its web never answers).
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/^Job \S+ accepted: update 1\.2\.2 → 1\.4\.0-beta\.1\./m)
    expect((await status()).version).toBe('1.2.2')
  })
})
