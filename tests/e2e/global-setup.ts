/**
 * Runs after the webServer is up (Playwright starts it first), on a data dir the webServer
 * command has just wiped: adds the member the access spec signs in as. create-user writes to the
 * same SQLite file the running web reads, so no restart is needed.
 */
import { execFileSync } from 'node:child_process'
import { DATA_DIR, MEMBER, ROOT_DIR } from './env'

export default function globalSetup(): void {
  execFileSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/create-user.ts', '--email', MEMBER.email, '--password', MEMBER.password, '--role', 'member'],
    { cwd: ROOT_DIR, env: { ...process.env, OWLAT_DATA_DIR: DATA_DIR }, stdio: 'inherit' },
  )
}
