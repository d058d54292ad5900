/**
 * The built web refuses to start on bad notification settings (issue 17), naming the variable:
 * a webhook URL that is not http(s), an SMTP URL without a host.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { freePort } from '../setup/ports'
import { cleanEnv, ensureWebBuild, ROOT } from './stack'

async function startWeb(env: Record<string, string>): Promise<{ code: number | null, output: string }> {
  ensureWebBuild()
  const child = spawn(process.execPath, ['.output/server/index.mjs'], {
    cwd: ROOT,
    env: { ...cleanEnv(), PORT: String(await freePort()), OWLAT_DATA_DIR: mkdtempSync(join(tmpdir(), 'owlat-notify-config-')), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
  const timer = setTimeout(() => child.kill('SIGTERM'), 20_000)
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  clearTimeout(timer)
  return { code, output }
}

describe('bad notification settings', () => {
  it('stop the web at start, naming OWLAT_WEBHOOK_URLS for a URL that is not http(s)', async () => {
    const { code, output } = await startWeb({ OWLAT_WEBHOOK_URLS: 'ftp://files.example.com/hook', OWLAT_WEBHOOK_SECRET: 'a-secret-long-enough-1234' })
    expect(code).toBe(1)
    expect(output).toMatch(/OWLAT_WEBHOOK_URLS: webhook URL "ftp:\/\/files\.example\.com\/…" is not an http\(s\) URL/)
  }, 30_000)

  it('stop the web at start, naming OWLAT_SMTP_URL for an SMTP URL without a host', async () => {
    const { code, output } = await startWeb({ OWLAT_SMTP_URL: 'smtp://user:password@' })
    expect(code).toBe(1)
    expect(output).toMatch(/OWLAT_SMTP_URL: OWLAT_SMTP_URL has no host/)
    expect(output).not.toContain('password')
  }, 30_000)
})
