import AxeBuilder from '@axe-core/playwright'
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

/**
 * Runs axe on the page, or on the part `include` selects (a dialog), and fails on any serious or
 * critical violation, naming each with the elements it found.
 */
export async function expectNoSeriousA11yViolations(page: Page, include?: string): Promise<void> {
  // A hovered control shows its hover shade; judge the resting state the page is read in.
  await page.mouse.move(0, 0)
  let builder = new AxeBuilder({ page })
  if (include) builder = builder.include(include)
  const { violations } = await builder.analyze()
  const serious = violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map(n => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('; ')}`)
  expect(serious).toEqual([])
}

/** True while keyboard focus is inside the open dialog. */
export function focusIsInDialog(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    // The tools tsconfig has no DOM types: reach the browser's document through globalThis.
    const doc = Reflect.get(globalThis, 'document') as { activeElement: { closest: (selector: string) => unknown } | null }
    return doc.activeElement?.closest('[role="dialog"]') != null
  })
}

/** Tabs through the dialog more times than it has controls: focus must never leave it. */
export async function expectFocusTrappedInDialog(page: Page, presses = 12): Promise<void> {
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press('Tab')
    expect(await focusIsInDialog(page)).toBe(true)
  }
}
