/**
 * The demo's 1.4.0-beta.2 passes `verify`, then falls over: the watch window catches it and the
 * page shows it restored with the reason. The demo's copy falls over 15 s after it first answered
 * healthy, longer than this suite's 3 s window (global-setup.ts leaves it out), so this spec
 * publishes it again, signed with the instance's demo key, falling over after 1 s. It leaves the
 * instance as it found it: the outcome acknowledged, the channel as it was.
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { demoCompose } from '../../scripts/bootstrap'
import { writeReleaseArtifacts } from '../../shared/release-artifacts'
import { ADMIN, DATA_DIR, DESKTOP, LATE_FAILING_BETA, ROOT_DIR } from './env'
import { signIn, stepRow } from './helpers'

test.use({ viewport: DESKTOP })

const RUN_TIMEOUT = 120_000

function publishLateFailingBeta(): void {
  const dataDir = resolve(ROOT_DIR, DATA_DIR)
  writeReleaseArtifacts({
    dir: join(dataDir, 'releases'),
    compose: demoCompose({ version: LATE_FAILING_BETA, webEnv: { OWLAT_DEMO_FAULT: 'unhealthy-after:1000' } }),
    privateKey: readFileSync(join(dataDir, 'keys', 'release-signing.pem'), 'utf8'),
    manifest: {
      version: LATE_FAILING_BETA,
      channel: 'beta',
      publishedAt: '2026-11-25T10:00:00Z',
      severity: 'normal',
      images: [],
      migrations: { migratesData: false, rollbackFloor: null },
      notes: '## 1.4.0-beta.2\n\nAutomation builder: branching steps. **Beta**: not for production.\n',
    },
  })
}

/** A JSON call from the page, with its session and origin. */
async function api<T>(page: Page, method: string, path: string, body?: unknown): Promise<T> {
  return page.evaluate(async ({ method, path, body }) => {
    const res = await fetch(path, { method, headers: { 'content-type': 'application/json', 'accept': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`)
    return await res.json() as T
  }, { method, path, body })
}

test('1.4.0-beta.2 passes verify, falls over in the watch window, and the page shows it restored with the reason', async ({ page }) => {
  test.setTimeout(RUN_TIMEOUT + 60_000)
  publishLateFailingBeta()
  await signIn(page, ADMIN)
  const { channel } = await api<{ channel: 'stable' | 'beta' }>(page, 'GET', '/api/system/settings')
  const { currentVersion: before } = await api<{ currentVersion: string }>(page, 'GET', '/api/system/status')
  await api(page, 'PUT', '/api/system/settings', { channel: 'beta' })
  try {
    await page.reload()
    await page.getByTestId('check-now').click()
    await expect(page.getByTestId('release-version')).toHaveText(LATE_FAILING_BETA)
    await page.getByTestId('update-now').click()
    await page.getByTestId('confirm-update').click()

    // The page may land on the beta during the window and come back once it is restored.
    await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'rolled_back', { timeout: RUN_TIMEOUT })
    const outcome = page.getByTestId('run-outcome')
    await expect(outcome.getByTestId('run-reason')).toContainText(/watch window \([\d.]+ s of 3 s\) failed: web: /)
    await expect(outcome.getByTestId('run-restored')).toContainText(`${before} was restored`)
    await expect(stepRow(page, 'verify')).toHaveAttribute('data-status', 'succeeded')
    await expect(stepRow(page, 'watch')).toHaveAttribute('data-status', 'failed')
    await expect(stepRow(page, 'restore')).toHaveAttribute('data-status', 'succeeded')
    await expect(page.getByTestId('current-version')).toHaveText(before)
    await expect(page.getByTestId('run-attention-banner')).toContainText(`Update to ${LATE_FAILING_BETA} was rolled back: ${before} was restored`)
    await expect(page.getByTestId('release-card').getByTestId('release-failed-badge')).toHaveText('Failed here')
  }
  finally {
    const { runs } = await api<{ runs: Array<{ id: string, status: string }> }>(page, 'GET', '/api/system/history')
    if (runs[0]?.status === 'rolled_back') await api(page, 'POST', `/api/system/updates/${runs[0].id}/acknowledge`)
    await api(page, 'PUT', '/api/system/settings', { channel })
  }
})
