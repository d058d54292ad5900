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
  // On a phone the sidebar that names the user is folded away behind its menu button.
  if ((page.viewportSize()?.width ?? 1280) >= 1024) await expect(page.getByTestId('signed-in-email')).toHaveText(user.email)
  else await expect(page.getByTestId('signed-in-email').or(page.locator('#main-content'))).not.toHaveCount(0)
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
  // A run through required upgrade stops has each step once per hop: the last hop's is the one that ends it.
  return page.locator(`[data-testid="step-row"][data-step="${step}"]`).last()
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

/** Switches the channel to beta, through the warning the page asks the admin to confirm. */
export async function switchToBeta(page: Page): Promise<void> {
  await page.getByTestId('channel-select').click()
  await page.getByRole('option', { name: 'Beta' }).click()
  const dialog = page.getByRole('dialog')
  await expect(dialog).toContainText('Switch to the beta channel?')
  await dialog.getByTestId('channel-confirm').click()
  await expect(page.getByTestId('channel-select')).toContainText('Beta')
  await expect(page.getByTestId('beta-warning')).toBeVisible()
}

/**
 * Neither the document nor any card of the page is wider than it is shown: every card's content
 * (tables included) fits inside the card, and every card inside the window. Names what overflows.
 */
export async function expectNoHorizontalOverflow(page: Page): Promise<void> {
  const overflowing = await page.evaluate(() => {
    type Box = { right: number, left: number }
    type El = { getBoundingClientRect: () => Box, scrollWidth: number, clientWidth: number, getAttribute: (n: string) => string | null, querySelectorAll: (s: string) => ArrayLike<El> }
    const doc = Reflect.get(globalThis, 'document') as { documentElement: El, querySelectorAll: (s: string) => ArrayLike<El> }
    const width = Reflect.get(globalThis, 'innerWidth') as number
    const found: string[] = []
    if (doc.documentElement.scrollWidth > width) found.push(`the document is ${doc.documentElement.scrollWidth} px wide in a ${width} px window`)
    for (const card of Array.from(doc.querySelectorAll('#owlat-system > *'))) {
      const name = card.getAttribute('data-testid') ?? 'a card'
      const box = card.getBoundingClientRect()
      if (box.right > width + 1 || box.left < -1) found.push(`${name} spans ${Math.round(box.left)}–${Math.round(box.right)} px in a ${width} px window`)
      if (card.scrollWidth > card.clientWidth + 1) found.push(`${name} scrolls sideways (${card.scrollWidth} px of content in ${card.clientWidth} px)`)
      for (const inner of Array.from(card.querySelectorAll('table, [data-testid]'))) {
        const r = inner.getBoundingClientRect()
        if (r.right > box.right + 1) found.push(`${inner.getAttribute('data-testid') ?? 'a table'} in ${name} ends ${Math.round(r.right - box.right)} px past the card`)
      }
    }
    return found
  })
  expect(overflowing).toEqual([])
}

/**
 * With OWLAT_E2E_SCREENSHOTS=1, the whole page as the README's "What you will see" shows it
 * (docs/screenshots/NAME.png); otherwise nothing.
 */
export async function readmeScreenshot(page: Page, name: string): Promise<void> {
  if (process.env.OWLAT_E2E_SCREENSHOTS !== '1') return
  await page.mouse.move(0, 0)
  await page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage: true, animations: 'disabled', caret: 'hide' })
}
