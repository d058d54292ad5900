import { describe, expect, it } from 'vitest'
import { DEMO_RELEASES } from '../../scripts/bootstrap'
import { freePort, makeDemoInstance, runCli, stderrLines } from './helpers'

/** Every failure: a non-zero exit and exactly one line on stderr, never a stack trace. */
function expectOneLineFailure(result: { exitCode: number, stderr: string }, exitCode: number, line: RegExp | string): void {
  expect(result.exitCode).toBe(exitCode)
  const lines = result.stderr.split('\n').filter(l => l.trim() !== '')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toEqual(typeof line === 'string' ? line : expect.stringMatching(line))
  expect(result.stderr).not.toMatch(/\n\s+at /)
}

describe('owlat argument validation', () => {
  const env = { OWLAT_DIR: '/nonexistent/owlat' }

  it.each([
    [['nope'], 'owlat: unknown command "nope": see owlat --help'],
    [[], 'owlat: no command specified: see owlat --help'],
    [['upgrade', '--version', 'latest'], 'owlat: --version: must be a semantic version such as 1.3.0'],
    [['upgrade', '--version'], 'owlat: --version needs a value'],
    [['upgrade', '--version', '1.3.0', '--version', '1.2.3'], 'owlat: --version was given more than once'],
    [['upgrade', '--force'], 'owlat: unknown option --force: see --help'],
    [['rollback', 'now'], 'owlat: unexpected argument "now": see --help'],
    [['history', '--limit', '0'], 'owlat: --limit: must be at least 1'],
    [['history', '--limit', 'ten'], 'owlat: --limit: must be a whole number'],
    [['history', '--limit', '1000'], 'owlat: --limit: must be at most 100'],
    [['logs'], 'owlat: name a SERVICE (see owlat status) or pass --job ID (see owlat history)'],
    [['logs', 'web', '--job', 'abc'], 'owlat: give either a SERVICE or --job ID, not both'],
    [['logs', 'web', '--tail', '-5'], 'owlat: unknown option -5: see --help'],
    [['logs', 'web', '--tail', '5x'], 'owlat: --tail: must be a whole number'],
    [['logs', 'web', '--tail', '5001'], 'owlat: --tail: must be at most 5000'],
    [['upgrade', '--version', '1.3.0'], 'owlat: no terminal to confirm on: pass --yes to proceed without asking'],
    [['logs', '--job', '../etc/passwd'], 'owlat: --job: must be a run id as the web page or owlat history shows it'],
    [['compose', 'check'], 'owlat: FILE: the compose file to check is required'],
    [['compose', 'check', 'a.yml', 'b.yml'], 'owlat: unexpected argument "b.yml": see --help'],
    [['compose', 'check', 'a.yml', '--allow-image', 'Not A Prefix'], 'owlat: --allow-image: must be an image prefix such as ghcr.io/owlat/'],
    [['release', 'verify', '/tmp'], 'owlat: VERSION: the version to verify is required'],
    [['doctor', '--fix'], 'owlat: unknown option --fix: see --help'],
    [['upgrade', '--rehearse', '--try-again'], 'owlat: --rehearse: cannot be combined with --try-again: a rehearsal may try any newer release, also one that failed here'],
    [['upgrade', '--rehearse', '--version', 'latest'], 'owlat: --version: must be a semantic version such as 1.3.0'],
    [['upgrade', '--rehearse', '--ignore-checks'], 'owlat: --reason: --ignore-checks needs --reason R: why it is safe to go ahead'],
    [['rollback', '--rehearse'], 'owlat: only an update can be rehearsed: owlat upgrade --rehearse [--version V]'],
  ])('owlat %j fails with one line', async (args, line) => {
    expectOneLineFailure(await runCli(args, env), 2, line)
  })

  it('prints usage for --help without failing', async () => {
    const result = await runCli(['upgrade', '--help'], env)
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/--version/)
    expect(result.stdout).toMatch(/--yes/)
    expect(result.stdout).toMatch(/--rehearse/)
  })

  it('refuses a bad configuration in one line that names the variable', async () => {
    expectOneLineFailure(await runCli(['status'], { ...env, OWLAT_UPDATER_PORT: 'eighty' }), 1, /^owlat: invalid configuration: OWLAT_UPDATER_PORT: .*: fix the environment or \/nonexistent\/owlat\/\.env$/)
  })
})

describe('owlat against an unreachable updater', () => {
  it.each([[['status']], [['history']], [['logs', 'web']], [['logs', '--job', 'abc']], [['upgrade', '--yes']], [['rollback']]])('owlat %j says where it looked and exits 1', async (args) => {
    const demo = makeDemoInstance()
    const port = await freePort()
    const result = await runCli(args, { OWLAT_DATA_DIR: demo.dataDir, OWLAT_DIR: demo.owlatDir, OWLAT_UPDATER_URL: `http://127.0.0.1:${port}` })
    expectOneLineFailure(result, 1, `owlat: cannot reach the updater at http://127.0.0.1:${port}: is it running? (ECONNREFUSED)`)
  })

  it('doctor reports the updater check as failed and still runs the others', async () => {
    const demo = makeDemoInstance()
    const port = await freePort()
    const result = await runCli(['doctor'], { OWLAT_DATA_DIR: demo.dataDir, OWLAT_DIR: demo.owlatDir, OWLAT_UPDATER_PORT: String(port) })
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toMatch(/^✖ fail updater +cannot reach the updater/m)
    expect(result.stdout).toMatch(new RegExp(`^✔ ok +releases +${DEMO_RELEASES.length} release\\(s\\)`, 'm'))
    expect(stderrLines(result)).toEqual(['owlat: doctor: 1 check(s) failed: updater'])
  })
})
