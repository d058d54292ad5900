/**
 * Issue 13: the CLI on a terminal and on a pipe (defect 9: colour only on a terminal, plain with
 * NO_COLOR and on a pipe, help without literal backticks), and the lost admin password
 * (defect 10: `owlat admin reset-password EMAIL` against the standalone app's store).
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execa } from 'execa'
import { openSqliteStore } from '../../server/utils/store/sqlite'
import { verifyPassword } from '../../shared/node/password'
import { freePort } from '../setup/ports'
import { BIN, makeDemoInstance, REPO_ROOT, runCli, startUpdater, stderrLines, type DemoInstance, type UpdaterProcess } from './helpers'

const ESC = '\u001B['

/** Runs owlat with a real pseudo-terminal as stdout (util-linux `script`), as an operator at a shell does. */
async function runOnTerminal(args: string[], env: Record<string, string>): Promise<string> {
  const command = [process.execPath, BIN, ...args].map(a => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OWLAT_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'
    // A person's terminal, not a CI runner's: Node counts a terminal under `CI` as two-colour.
    && k !== 'CI')) as Record<string, string>
  const result = await execa('script', ['-qec', command, '/dev/null'], { env: { ...base, TERM: 'xterm-256color', ...env }, extendEnv: false, cwd: REPO_ROOT, reject: false, stdin: 'ignore' })
  return String(result.stdout)
}

describe('owlat on a terminal and on a pipe', () => {
  let demo: DemoInstance
  let env: Record<string, string>
  let updater: UpdaterProcess

  beforeAll(async () => {
    demo = makeDemoInstance()
    env = { OWLAT_DATA_DIR: demo.dataDir, OWLAT_DIR: demo.owlatDir, PORT: String(await freePort()), OWLAT_UPDATER_PORT: String(await freePort()) }
    updater = await startUpdater(env, demo.secret)
    const upgraded = await runCli(['upgrade', '--version', '1.3.0', '--yes'], env)
    expect(upgraded.exitCode, upgraded.stdout + upgraded.stderr).toBe(0)
  })

  afterAll(async () => {
    await updater?.stop()
  })

  it('colours a terminal, and prints plain text with NO_COLOR, TERM=dumb and on a pipe', async () => {
    const coloured = await runOnTerminal(['history'], env)
    expect(coloured).toContain(`${ESC}32msucceeded`)
    for (const plainEnv of [{ NO_COLOR: '1' }, { TERM: 'dumb' }] as Record<string, string>[]) {
      const plain = await runOnTerminal(['history'], { ...env, ...plainEnv })
      expect(plain).toMatch(/update 1\.2\.2 → 1\.3\.0 +succeeded/)
      expect(plain).not.toContain(ESC)
    }
    const piped = await runCli(['history'], env)
    expect(piped.stdout).toMatch(/update 1\.2\.2 → 1\.3\.0 +succeeded/)
    expect(piped.stdout).not.toContain(ESC)
  })

  it('renders release notes as text, without their title or markdown', async () => {
    const result = await runCli(['upgrade', '--version', '1.2.3', '--yes'], env)
    expect(result.exitCode, result.stdout + result.stderr).toBe(0)
    const notes = result.stdout.slice(result.stdout.indexOf('Roll back: 1.3.0 → 1.2.3'), result.stdout.indexOf('Job '))
    expect(notes).toContain('  • Fixes a crash when a DKIM key is rotated.')
    expect(notes).not.toMatch(/^##|^- |\*\*/m)
  })

  it('shows help without literal backticks, bold on a terminal', async () => {
    for (const args of [['--help'], ['logs', '--help'], ['admin', 'reset-password', '--help']]) {
      const result = await runCli(args, env)
      expect(result.exitCode).toBe(0)
      expect(result.stdout).not.toContain('`')
    }
    expect((await runCli(['admin', 'reset-password', '--help'], env)).stdout).toMatch(/^USAGE owlat admin reset-password \[OPTIONS\] <EMAIL>$/m)
    expect(await runOnTerminal(['--help'], env)).toContain(`${ESC}1mowlat <command> --help`)
  })
})

describe('owlat admin reset-password', () => {
  let demo: DemoInstance
  let env: Record<string, string>

  beforeAll(async () => {
    demo = makeDemoInstance()
    env = { OWLAT_DATA_DIR: demo.dataDir, OWLAT_DIR: demo.owlatDir }
  })

  it('says where it looked when the web never ran here', async () => {
    const result = await runCli(['admin', 'reset-password', 'admin@example.test'], env)
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual([`owlat: no web store in ${demo.dataDir}: set OWLAT_DATA_DIR to the web's data dir (npm start: .data), or OWLAT_CONVEX_URL and OWLAT_CONVEX_ADMIN_KEY for Convex`])
  })

  it('gives the admin a new password the sign-in verifies, leaving other users alone', async () => {
    const store = openSqliteStore(join(demo.dataDir, 'web.sqlite'))
    const admin = await store.createUser({ email: 'admin@example.test', role: 'platform-admin', passwordHash: 'forgotten' })
    const member = await store.createUser({ email: 'member@example.test', role: 'member', passwordHash: 'kept' })
    await store.close()

    const result = await runCli(['admin', 'reset-password', 'Admin@Example.test'], env)
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stdout).toContain(`Password of admin@example.test (platform-admin) reset in ${join(demo.dataDir, 'web.sqlite')}.`)
    const password = /^New password \(shown once\): (\S+)$/m.exec(result.stdout)?.[1]
    expect(password).toMatch(/^[\w-]{24}$/)

    const after = openSqliteStore(join(demo.dataDir, 'web.sqlite'))
    try {
      expect(await verifyPassword((await after.getUserById(admin.id))!.passwordHash, password!)).toBe(true)
      expect((await after.getUserById(member.id))!.passwordHash).toBe('kept')
    }
    finally {
      await after.close()
    }
  })

  it('takes a chosen password from stdin, and refuses one that is too short', async () => {
    const reset = (input: string) => execa(process.execPath, [BIN, 'admin', 'reset-password', 'admin@example.test', '--password-stdin'], {
      env, extendEnv: true, input, reject: false, cwd: REPO_ROOT,
    })
    const short = await reset('short\n')
    expect(short.exitCode).toBe(2)
    expect(String(short.stderr).trim()).toBe('owlat: the password from stdin is shorter than 8 characters: nothing was changed')
    const chosen = await reset('a long chosen password\n')
    expect(chosen.exitCode, String(chosen.stderr)).toBe(0)
    expect(String(chosen.stdout)).not.toContain('New password')
    const store = openSqliteStore(join(demo.dataDir, 'web.sqlite'))
    try {
      expect(await verifyPassword((await store.getUserByEmail('admin@example.test'))!.passwordHash, 'a long chosen password')).toBe(true)
    }
    finally {
      await store.close()
    }
  })

  it('names a host app\'s own sign-in when the user is not in the store', async () => {
    const result = await runCli(['admin', 'reset-password', 'someone@acme.example'], env)
    expect(result.exitCode).toBe(1)
    expect(stderrLines(result)).toEqual([`owlat: no user someone@acme.example in the web's store (${join(demo.dataDir, 'web.sqlite')}); an app with its own sign-in keeps its users itself: reset the password there`])
  })
})
