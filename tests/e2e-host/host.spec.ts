/**
 * The module inside a host admin panel (tests/fixtures/host): the host's layout, navigation and
 * sign-in, its users told to the module by its user resolver, the page at /admin/system.
 */
import { expect, test, type Page } from '@playwright/test'
import { startSmtpSink, type SmtpSink } from '../../scripts/smtp-sink'
import { documentIsMarked, markDocument } from '../e2e/helpers'
import { INSTALLED_VERSION, OWNER, SMTP_PORT, STABLE_TARGET, STAFF } from './env'

// One instance: the update runs last, after the checks that expect the installed version.
test.describe.configure({ mode: 'serial' })

const RUN_TIMEOUT = 180_000

// The mailbox the host's notifications go to (OWLAT_SMTP_URL in playwright.host.config.ts).
let mailbox: SmtpSink
test.beforeAll(async () => {
  mailbox = await startSmtpSink({ port: SMTP_PORT })
})
test.afterAll(async () => {
  await mailbox?.close()
})

/** Signs in through the host's own sign-in page. */
async function signIn(page: Page, user: { email: string, password: string }, next?: string): Promise<void> {
  await page.goto(next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in')
  await page.getByTestId('host-email').fill(user.email)
  await page.getByTestId('host-password').fill(user.password)
  await page.getByTestId('host-submit').click()
  await expect(page).toHaveURL(next ?? '/')
}

test('a signed-out visitor is sent to the host\'s sign-in, not the module\'s', async ({ page, request }) => {
  const response = await page.goto('/admin/system')
  await expect(page).toHaveURL(/\/sign-in\?next=(%2F|\/)admin(%2F|\/)system$/)
  expect(response?.status()).toBe(200)
  await expect(page.getByTestId('host-sign-in')).toBeVisible()

  // The module brings no sign-in, users or session of its own into a host.
  expect((await request.get('/login')).status()).toBe(404)
  expect((await request.post('/api/auth/login', { data: { email: OWNER.email, password: OWNER.password } })).status()).toBe(404)
  expect((await request.get('/api/system/status')).status()).toBe(401)
  expect(await (await request.get('/api/owlat-system/user')).json()).toEqual({ user: null })

  // Signing in there brings the visitor back to the page they asked for.
  await page.getByTestId('host-email').fill(OWNER.email)
  await page.getByTestId('host-password').fill(OWNER.password)
  await page.getByTestId('host-submit').click()
  await expect(page).toHaveURL('/admin/system')
  await expect(page.getByTestId('current-version')).toHaveText(INSTALLED_VERSION)
})

test('the host\'s member gets no banner, and a 403 from the page and the API', async ({ page }) => {
  await signIn(page, STAFF)
  await expect(page.getByTestId('host-dashboard')).toBeVisible()
  await expect(page.getByTestId('host-user')).toHaveText(STAFF.name)
  // An update is available: the banner's absence is down to the role.
  await page.waitForLoadState('networkidle')
  await expect(page.getByTestId('update-banner')).toHaveCount(0)
  await expect(page.getByTestId('system-banners')).toHaveCount(0)

  const response = await page.goto('/admin/system')
  expect(response?.status()).toBe(403)
  await expect(page.getByTestId('admins-only')).toBeVisible()
  await expect(page.getByTestId('host-nav')).toBeVisible()
  await expect(page.getByTestId('version-card')).toHaveCount(0)
  expect((await page.request.get('/api/system/status')).status()).toBe(403)
  expect((await page.request.post('/api/system/updates', { data: { targetVersion: STABLE_TARGET } })).status()).toBe(403)
})

test('the host\'s admin sees the banner on a host page and updates through the module, inside the host\'s layout', async ({ page }) => {
  test.setTimeout(RUN_TIMEOUT + 60_000)
  await signIn(page, OWNER)
  await expect(page.getByTestId('host-dashboard')).toBeVisible()
  await expect(page.getByTestId('host-title')).toHaveText('Acme Admin')

  // The banner, placed by the host's layout with <SystemBanners />, on the host's own page.
  const banner = page.getByTestId('update-banner')
  await expect(banner).toContainText(`Owlat ${STABLE_TARGET} is available`)
  await banner.getByTestId('banner-link').click()
  await expect(page).toHaveURL('/admin/system')
  await expect(page.getByTestId('host-nav')).toBeVisible()
  await expect(page.getByTestId('current-version')).toHaveText(INSTALLED_VERSION)
  await expect(page.getByTestId('release-version')).toHaveText(STABLE_TARGET)
  // Nothing older than what runs, and it ran nothing else: "Roll back…" is off and says why (issue 13, defect 6).
  await expect(page.getByTestId('rollback-open')).toBeDisabled()
  await expect(page.getByTestId('rollback-unavailable')).toHaveText(`No earlier version to roll back to: this instance has only run ${INSTALLED_VERSION}, and the release source lists no older release.`)

  await markDocument(page)
  const reloaded = page.waitForEvent('load', { timeout: RUN_TIMEOUT })
  await page.getByTestId('update-now').click()
  await page.getByTestId('confirm-update').click()
  await expect(page.getByTestId('run-heading')).toHaveText(`Update ${INSTALLED_VERSION} → ${STABLE_TARGET}`)

  // The host app itself is restarted on the new version; the page reloads onto it.
  await reloaded
  expect(await documentIsMarked(page)).toBe(false)
  await expect(page).toHaveURL('/admin/system')
  await expect(page.getByTestId('current-version')).toHaveText(STABLE_TARGET)
  await expect(page.getByTestId('host-title')).toHaveText('Acme Admin')
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'succeeded')
  await expect(page.getByTestId('update-banner')).toHaveCount(0)

  // The host's owner, who lives in the host's users, is mailed through its admin directory; its staff is not.
  await expect.poll(() => mailbox.mails.find(m => m.parsed.subject?.includes(`Updated to ${STABLE_TARGET}`))?.envelope.to, { timeout: 30_000 }).toEqual([OWNER.email])
  expect(mailbox.mails.flatMap(m => m.envelope.to)).not.toContain(STAFF.email)

  // History names the host's user, as the resolver gave them.
  const newest = page.getByTestId('history-table').locator('tbody tr').first()
  // Through the demo's required stop 1.3.0: one run of two hops.
  await expect(newest.getByTestId('history-versions')).toHaveText(`${INSTALLED_VERSION} → 1.3.0 → ${STABLE_TARGET}`)
  await expect(newest).toContainText(OWNER.email)

  // Now it ran three versions (the stop 1.3.0 ran between its hops): going back is offered, to
  // the one that ran here last, not to 1.2.3, which never ran here (issue 13, defect 6).
  await expect(page.getByTestId('rollback-unavailable')).toHaveCount(0)
  await page.getByTestId('rollback-open').click()
  const dialog = page.getByRole('dialog')
  await expect(dialog.getByRole('radio', { name: '1.3.0' })).toBeChecked()
  await expect(dialog.getByRole('radio', { name: INSTALLED_VERSION })).not.toBeChecked()
  await expect(dialog.getByRole('radio', { name: '1.2.3' })).not.toBeChecked()
  await expect(dialog.getByRole('radiogroup')).toContainText('never ran here')
  await expect(dialog).not.toContainText('ran no other version')
  await dialog.getByTestId('rollback-cancel').click()
  await expect(dialog).toHaveCount(0)
})

test('the host\'s admin keeps a notification preference with the host\'s user, through its admin directory', async ({ page }) => {
  await signIn(page, OWNER, '/admin/system')
  const card = page.getByTestId('notifications-card')
  await card.getByRole('radio', { name: 'Security only' }).click()
  await expect(card.getByRole('radio', { name: 'Security only' })).toHaveAttribute('aria-checked', 'true')
  await page.reload()
  await expect(card.getByRole('radio', { name: 'Security only' })).toHaveAttribute('aria-checked', 'true')
  expect(await page.evaluate(async () => (await fetch('/api/system/notifications/preference', { headers: { accept: 'application/json' } })).json())).toEqual({ notifications: 'security' })
})
