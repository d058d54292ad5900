import { expect, type Page } from '@playwright/test'

export interface Credentials {
  email: string
  password: string
}

/** Signs in through the form and waits until the redirect target is shown. */
export async function signIn(page: Page, user: Credentials, redirect?: string): Promise<void> {
  await page.goto(redirect ? `/login?redirect=${encodeURIComponent(redirect)}` : '/login')
  // The inputs stay disabled until the page is hydrated; fill() waits for them.
  await page.getByTestId('login-email').fill(user.email)
  await page.getByTestId('login-password').fill(user.password)
  await page.getByTestId('login-submit').click()
  await expect(page).toHaveURL(redirect ?? '/settings/system')
  await expect(page.getByTestId('signed-in-email')).toHaveText(user.email)
}

/** A flag that only survives as long as the document does: gone after any reload. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    Reflect.set(globalThis, '__e2eMark', true)
  })
}

export async function documentIsMarked(page: Page): Promise<boolean> {
  return page.evaluate(() => Reflect.get(globalThis, '__e2eMark') === true)
}

export function stepRow(page: Page, step: string) {
  return page.locator(`[data-testid="step-row"][data-step="${step}"]`)
}

/** The newest run in the history table (rows are sorted newest first). */
export function newestHistoryRow(page: Page) {
  return page.getByTestId('history-table').locator('tbody tr').first()
}
