/**
 * Issue 16: "Rehearse first" in the update dialog. The demo's broken 1.4.0-beta.1 fails on its copy
 * of the data (production untouched, the page never reloads), and the dialog then warns against it
 * with a link to the rehearsal's report; a healthy release passes, and Update now installs it.
 *
 * The suite shares one instance, and the specs before this one leave it on 1.3.1 (run alone, it
 * is on 1.2.2): the healthy release is one this spec publishes above either, signed with the
 * instance's demo key. While it runs, the demo's 1.4.0-beta.2 (which 05-watch-window.spec.ts
 * publishes) is taken out of the release folder, so that the broken beta is the one offered.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { demoCompose } from '../../scripts/bootstrap'
import { artifactNames, writeReleaseArtifacts } from '../../shared/release-artifacts'
import { ADMIN, BASE_URL, BROKEN_BETA, DATA_DIR, DESKTOP, LATE_FAILING_BETA, ROOT_DIR } from './env'
import { documentIsMarked, expectNoSeriousA11yViolations, markDocument, signIn, stepRow, switchToBeta } from './helpers'

test.describe.configure({ mode: 'serial' })
test.use({ viewport: DESKTOP })

// A rehearsal starts a web on a copy and waits up to OWLAT_VERIFY_TIMEOUT_MS (20 s here) for it.
const RUN_TIMEOUT = 120_000
/** The healthy release rehearsed and then installed: newer than anything the suite installs before. */
const HEALTHY = '1.3.2'

const dataDir = () => resolve(ROOT_DIR, DATA_DIR)
const releaseDir = () => join(dataDir(), 'releases')
const asideDir = () => join(dataDir(), 'releases-aside')

function moveRelease(version: string, from: string, to: string): boolean {
  const names = Object.values(artifactNames(version))
  if (!existsSync(join(from, names[0]!))) return false
  mkdirSync(to, { recursive: true })
  for (const name of names) renameSync(join(from, name), join(to, name))
  return true
}

function publishHealthy(): void {
  writeReleaseArtifacts({
    dir: releaseDir(),
    compose: demoCompose({ version: HEALTHY }),
    privateKey: readFileSync(join(dataDir(), 'keys', 'release-signing.pem'), 'utf8'),
    manifest: {
      version: HEALTHY,
      channel: 'stable',
      publishedAt: '2026-11-28T10:00:00Z',
      severity: 'normal',
      images: [],
      migrations: { migratesData: false, rollbackFloor: null },
      notes: '## 1.3.2\n\n- Faster segment previews.\n',
    },
  })
}

/** The API as the suite's own setup calls it (signed in, from Node). */
async function api(method: string, path: string, body?: unknown): Promise<{ status: number, json: Record<string, unknown> }> {
  const login = await fetch(`${BASE_URL}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })
  const cookie = login.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
  const res = await fetch(`${BASE_URL}${path}`, { method, headers: { cookie, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined })
  return { status: res.status, json: await res.json().catch(() => ({})) as Record<string, unknown> }
}

async function installedVersion(page: Page): Promise<string> {
  await expect(page.getByTestId('current-version')).toHaveText(/\d+\.\d+\.\d+/)
  return (await page.getByTestId('current-version').textContent())!.trim()
}

let movedBeta = false

test.beforeAll(async () => {
  movedBeta = moveRelease(LATE_FAILING_BETA, releaseDir(), asideDir())
  publishHealthy()
  expect((await api('PUT', '/api/system/settings', { channel: 'stable' })).status).toBe(200)
})

test.afterAll(async () => {
  if (movedBeta) moveRelease(LATE_FAILING_BETA, asideDir(), releaseDir())
  await api('PUT', '/api/system/settings', { channel: 'stable' })
  expect((await api('POST', '/api/system/releases/check')).status).toBe(200)
})

test('"Rehearse first" on the broken beta fails on its copy, and the dialog then warns against it with a link to the report', async ({ page }) => {
  test.setTimeout(RUN_TIMEOUT + 60_000)
  await signIn(page, ADMIN)
  await page.getByTestId('check-now').click()
  await expect(page.getByTestId('release-version')).toHaveText(HEALTHY)
  const installed = await installedVersion(page)
  await switchToBeta(page)
  await expect(page.getByTestId('release-version')).toHaveText(BROKEN_BETA)
  await markDocument(page)

  await page.getByTestId('update-now').click()
  const dialog = page.getByRole('dialog')
  await expect(dialog.getByTestId('plan-checks')).toBeVisible()
  await expect(dialog.getByTestId('update-failed-rehearsal')).toHaveCount(0)
  await dialog.getByTestId('rehearse-first').click()

  // Followed in the dialog, Update now waiting for it; the version card keeps the installed version.
  await expect(dialog.getByTestId('update-rehearsal-progress')).toContainText(`Rehearsing ${BROKEN_BETA} on a copy of the data`)
  await expect(dialog.getByTestId('confirm-update')).toBeDisabled()
  await expect(page.getByTestId('current-version')).toHaveText(installed)

  const warning = dialog.getByTestId('update-failed-rehearsal')
  await expect(warning).toContainText(`Rehearsal of ${BROKEN_BETA} failed`, { timeout: RUN_TIMEOUT })
  await expect(warning).toContainText('the production stack was not touched')
  await expect(dialog.getByTestId('update-rehearsal-progress')).toHaveCount(0)
  await expectNoSeriousA11yViolations(page, '[role="dialog"]')
  // Production as it was: no reload, the same version, nothing marked "failed here", no failure banner.
  expect(await documentIsMarked(page)).toBe(true)
  await expect(page.getByTestId('current-version')).toHaveText(installed)

  await dialog.getByTestId('update-failed-rehearsal-report').click()
  await expect(dialog).toHaveCount(0)
  await expect(page).toHaveURL(/\/settings\/system\/runs\/[\w-]+$/)
  const reportId = new URL(page.url()).pathname.split('/').at(-1)!
  const report = page.getByTestId('rehearsal-report')
  await expect(page.getByTestId('run-detail-heading')).toHaveText(`Rehearsal ${installed} → ${BROKEN_BETA} on a copy of the data`)
  await expect(page.getByTestId('run-outcome')).toContainText(`Rehearsal of ${BROKEN_BETA} failed`)
  await expect(page.getByTestId('run-outcome')).toContainText('Nothing in production was changed')
  await expect(report.getByTestId('rehearsal-result')).toContainText('Failed: Verify the new version on the copy failed')
  await expect(report.getByTestId('rehearsal-downtime')).toHaveText('Not measured: the new version never got through verify on the copy.')
  await expect(report.getByTestId('rehearsal-migration').first()).toHaveText(`${BROKEN_BETA}: no data migrations`)
  await expect(report.locator('[data-testid="plan-check"][data-check="free-disk"]')).toContainText('the rehearsal needs about')
  await expect(stepRow(page, 'verify')).toHaveAttribute('data-status', 'failed')
  await expect(stepRow(page, 'verify')).toContainText('Verify the new version on the copy')
  await expect(stepRow(page, 'teardown')).toHaveAttribute('data-status', 'succeeded')
  await expect(page.getByTestId('run-detail-rollback')).toHaveCount(0)
  await expectNoSeriousA11yViolations(page)

  await page.goto('/settings/system')
  await expect(page.getByTestId('current-version')).toHaveText(installed)
  await expect(page.getByTestId('run-attention-banner')).toHaveCount(0)
  // Not "failed here" for it: only a run on the stack itself can be.
  const status = await api('GET', '/api/system/status')
  expect((status.json.failedReleases as Array<{ runId: string }>).map(f => f.runId)).not.toContain(reportId)
  await page.getByTestId('update-now').click()
  await expect(page.getByRole('dialog').getByTestId('update-failed-rehearsal')).toBeVisible()
  await page.getByRole('dialog').getByTestId('confirm-cancel').click()
})

test('"Rehearse first" on a healthy release passes, then Update now installs it and the page reloads onto it', async ({ page }) => {
  test.setTimeout(2 * RUN_TIMEOUT)
  await signIn(page, ADMIN)
  const installed = await installedVersion(page)
  await page.getByTestId('channel-select').click()
  await page.getByRole('option', { name: 'Stable' }).click()
  await expect(page.getByTestId('release-version')).toHaveText(HEALTHY)
  await markDocument(page)

  await page.getByTestId('update-now').click()
  const dialog = page.getByRole('dialog')
  await expect(dialog.getByTestId('plan-checks')).toBeVisible()
  await dialog.getByTestId('rehearse-first').click()
  await expect(dialog.getByTestId('update-rehearsal-progress')).toContainText(`Rehearsing ${HEALTHY} on a copy of the data`)
  // The page behind follows the rehearsal too, as a rehearsal.
  await expect(page.getByTestId('run-heading')).toHaveText(`Rehearsal ${installed} → ${HEALTHY} on a copy of the data`)

  const passed = dialog.getByTestId('update-passed-rehearsal')
  await expect(passed).toContainText(`Rehearsal of ${HEALTHY} passed`, { timeout: RUN_TIMEOUT })
  await expect(passed).toContainText(/Expect about \d+ s of downtime/)
  await expect(dialog.getByTestId('update-failed-rehearsal')).toHaveCount(0)
  // Passing changed nothing that runs: same document, same version.
  expect(await documentIsMarked(page)).toBe(true)
  await expect(page.getByTestId('current-version')).toHaveText(installed)
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'succeeded')

  // Update now is available as usual, and works.
  const reloaded = page.waitForEvent('load', { timeout: RUN_TIMEOUT })
  await expect(dialog.getByTestId('confirm-update')).toBeEnabled()
  await dialog.getByTestId('confirm-update').click()
  await expect(page.getByTestId('run-heading')).toHaveText(`Update ${installed} → ${HEALTHY}`)
  await reloaded
  expect(await documentIsMarked(page)).toBe(false)
  await expect(page.getByTestId('current-version')).toHaveText(HEALTHY, { timeout: RUN_TIMEOUT })
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'succeeded', { timeout: RUN_TIMEOUT })
})
