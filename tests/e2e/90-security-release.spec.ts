/**
 * Late on purpose (only the bundle upload, 95, comes after it): it publishes two releases into
 * the instance's release folder (the e2e instance uses the directory source), which would change
 * what every later spec is offered.
 * 1.4.0 migrates data; 1.5.0 is a security release whose notes are hostile.
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { expect, test } from '@playwright/test'
import { demoCompose } from '../../scripts/bootstrap'
import { writeReleaseArtifacts } from '../../shared/release-artifacts'
import { ADMIN, DATA_DIR, ROOT_DIR } from './env'
import { signIn } from './helpers'

const SECURITY = '1.5.0'
const MIGRATING = '1.4.0'

const HOSTILE_NOTES = [
  '## Security fix',
  'Fixes CVE-2026-0001. See the [advisory](https://example.com/advisory).',
  '<script>window.__owlatPwned = "script"</script>',
  '<img src="x" onerror="window.__owlatPwned = \'img\'">',
  '<svg onload="window.__owlatPwned = \'svg\'"><circle r="1"/></svg>',
  '<iframe src="javascript:window.__owlatPwned = \'iframe\'"></iframe>',
  '[click](javascript:window.__owlatPwned=\'link\') [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '<a href="https://example.com" onclick="window.__owlatPwned = \'onclick\'" onmouseover="window.__owlatPwned = \'hover\'">hover me</a>',
  '<p style="position:fixed;inset:0" onfocus="window.__owlatPwned = \'focus\'" tabindex="0">overlay</p>',
].join('\n\n')

function publish(version: string, severity: 'normal' | 'security', migratesData: boolean, notes: string): void {
  const dataDir = resolve(ROOT_DIR, DATA_DIR)
  writeReleaseArtifacts({
    dir: join(dataDir, 'releases'),
    compose: demoCompose({ version }),
    privateKey: readFileSync(join(dataDir, 'keys', 'release-signing.pem'), 'utf8'),
    manifest: {
      version,
      channel: 'stable',
      publishedAt: '2026-12-01T10:00:00Z',
      severity,
      images: [{ service: 'web', image: `ghcr.io/owlat/web:${version}` }],
      migrations: { migratesData, rollbackFloor: migratesData ? version : null },
      notes,
    },
  })
}

test('a security release has a banner without a dismiss control, and its hostile notes render inert', async ({ page }) => {
  const dialogs: string[] = []
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })

  publish(MIGRATING, 'normal', true, '## 1.4.0\n\nMoves contacts to the new schema.')
  publish(SECURITY, 'security', false, HOSTILE_NOTES)

  await signIn(page, ADMIN)
  await page.getByTestId('check-now').click()

  const banner = page.getByTestId('update-banner')
  await expect(banner).toContainText(`Owlat ${SECURITY} is available`)
  await expect(banner).toHaveAttribute('data-severity', 'security')
  await expect(banner.getByTestId('banner-link')).toBeVisible()
  await expect(banner.getByTestId('banner-dismiss')).toHaveCount(0)
  await expect(banner.getByRole('button', { name: /dismiss|close/i })).toHaveCount(0)

  // The notes of everything the update jumps over, newest first; 1.4.0 flagged as migrating data.
  const pending = page.getByTestId('pending-releases')
  await expect(pending).toBeVisible()
  const versions = await pending.getByTestId('pending-release').evaluateAll(els => els.map(e => e.getAttribute('data-version')))
  expect(versions.slice(0, 2)).toEqual([SECURITY, MIGRATING])
  await expect(pending.locator(`[data-version="${MIGRATING}"]`).getByTestId('release-migrates')).toBeVisible()
  await expect(pending.locator(`[data-version="${SECURITY}"]`).getByTestId('release-migrates')).toHaveCount(0)
  await expect(pending.getByTestId('pending-migrations-summary')).toBeVisible()

  // Hostile notes: shown as text and safe links, nothing executable.
  const notes = page.getByTestId('release-notes')
  await expect(notes).toContainText('Fixes CVE-2026-0001')
  for (const container of [notes, pending.locator(`[data-version="${SECURITY}"]`).getByTestId('release-list-notes')]) {
    const report = await container.evaluate((root) => {
      const all = [...root.querySelectorAll('*')]
      return {
        executable: all.filter(e => ['SCRIPT', 'IFRAME', 'IMG', 'SVG', 'OBJECT', 'EMBED', 'STYLE'].includes(e.tagName.toUpperCase())).map(e => e.tagName),
        handlers: all.flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on') || a.name === 'style' || a.name === 'src').map(a => `${e.tagName}.${a.name}`)),
        links: [...root.querySelectorAll('a')].map(a => ({ href: a.getAttribute('href'), target: a.getAttribute('target'), rel: a.getAttribute('rel') })),
      }
    })
    expect(report.executable).toEqual([])
    expect(report.handlers).toEqual([])
    // A link whose address was unsafe keeps its text and loses its href: inert.
    for (const link of report.links) {
      if (link.href !== null) expect(link.href).toMatch(/^(https?:|mailto:)/)
      expect(link.target).toBe('_blank')
      expect(link.rel).toContain('noopener')
    }
    expect(report.links.map(l => l.href)).toContain('https://example.com/advisory')
  }

  // Nothing ran: not on render, not on hover or click of what is left.
  await notes.getByText('hover me').hover()
  await notes.getByText('click', { exact: true }).click().catch(() => {})
  expect(await page.evaluate(() => Reflect.get(globalThis, '__owlatPwned'))).toBeUndefined()
  expect(dialogs).toEqual([])

  // Not dismissible through the API either, and still there after a reload.
  const refused = await page.request.post('/api/system/notifications/dismiss', { data: { version: SECURITY } })
  expect(refused.status()).toBe(400)
  await page.reload()
  await expect(page.getByTestId('update-banner')).toHaveAttribute('data-severity', 'security')
})
