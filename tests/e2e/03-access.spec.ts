import { expect, test } from '@playwright/test'
import { ADMIN, MEMBER } from './env'
import { signIn } from './helpers'

test('a member signs in and sees no banner and no admin data', async ({ page, request }) => {
  // An update does apply to this instance: the banner's absence below is down to the role.
  await request.post('/api/auth/login', { data: ADMIN })
  const status = await (await request.get('/api/system/status')).json() as { updateAvailable: boolean }
  expect(status.updateAvailable).toBe(true)

  const adminCalls: string[] = []
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname
    if (path.startsWith('/api/system/')) adminCalls.push(path)
  })

  await signIn(page, MEMBER)
  await expect(page.getByTestId('admins-only')).toBeVisible()
  // Let any client-side fetch the page would start happen before judging what it did.
  await page.waitForLoadState('networkidle')
  await expect(page.getByTestId('update-banner')).toHaveCount(0)
  await expect(page.getByTestId('version-card')).toHaveCount(0)
  expect(adminCalls).toEqual([])
})

test('a signed-out visit to the system page lands on sign-in and comes back after it', async ({ page }) => {
  await page.goto('/settings/system')
  await expect(page).toHaveURL(/\/login\?redirect=(%2F|\/)settings(%2F|\/)system$/)

  await page.getByTestId('login-email').fill(ADMIN.email)
  await page.getByTestId('login-password').fill('not the password')
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('login-error')).toHaveText('Wrong email or password.')
  await expect(page).toHaveURL(/\/login/)

  await page.getByTestId('login-password').fill(ADMIN.password)
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL('/settings/system')
  await expect(page.getByTestId('current-version')).toBeVisible()
})

test('repeated wrong passwords lock that sign-in for a while, and the page says for how long', async ({ page }) => {
  // An account of its own: the lock is per (account, address) pair, so the other specs' sign-ins stay open.
  await page.goto('/login')
  await page.getByTestId('login-email').fill('guesser@example.com')
  const submit = async (password: string): Promise<number> => {
    await page.getByTestId('login-password').fill(password)
    const answer = page.waitForResponse(res => new URL(res.url()).pathname === '/api/auth/login')
    await page.getByTestId('login-submit').click()
    return (await answer).status()
  }
  for (let i = 0; i < 5; i++) expect(await submit(`guess ${i}`)).toBe(401)
  await expect(page.getByTestId('login-error')).toHaveText('Wrong email or password.')
  expect(await submit('guess 5')).toBe(429)
  await expect(page.getByTestId('login-error')).toHaveText(/^Too many failed sign-ins; try again in \d+ s$/)
})
