/**
 * After the security release on purpose: an uploaded bundle adds a release to the instance's
 * release folder, which would change what every later spec is offered. In the browser, as an
 * admin does it: a tampered bundle is refused with the updater's reason, the real one becomes
 * the release offered. Made by `release:bundle` (no images: the local driver runs none).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { expect, test } from '@playwright/test'
import { demoCompose } from '../../scripts/bootstrap'
import { buildReleaseBundle } from '../../scripts/release-bundle'
import { writeReleaseArtifacts } from '../../shared/release-artifacts'
import { INDEX_FILE, INDEX_SIGNATURE_FILE } from '../../shared/release-index'
import { ADMIN, DATA_DIR, ROOT_DIR } from './env'
import { expectNoSeriousA11yViolations, signIn } from './helpers'

const VERSION = '1.6.0'

/** Published elsewhere, as an air-gapped install receives it: the instance's index continued, then bundled. */
async function makeBundle(): Promise<string> {
  const dataDir = resolve(ROOT_DIR, DATA_DIR)
  const work = mkdtempSync(join(tmpdir(), 'owlat-e2e-bundle-'))
  const from = join(work, 'release')
  mkdirSync(from)
  for (const name of [INDEX_FILE, INDEX_SIGNATURE_FILE]) copyFileSync(join(dataDir, 'releases', name), join(from, name))
  const key = join(dataDir, 'keys', 'release-signing.pem')
  writeReleaseArtifacts({
    dir: from,
    compose: demoCompose({ version: VERSION }),
    privateKey: readFileSync(key, 'utf8'),
    manifest: {
      version: VERSION,
      channel: 'stable',
      publishedAt: '2026-12-15T10:00:00Z',
      severity: 'normal',
      images: [],
      migrations: { migratesData: false, rollbackFloor: null },
      notes: `## ${VERSION}\n\nDelivered on a USB stick.`,
    },
  })
  return (await buildReleaseBundle([VERSION, '--from', from, '--key', key, '--out', work, '--no-images'])).file
}

test('an admin uploads an offline bundle: a tampered one is refused with the reason, the real one is offered', async ({ page }) => {
  const bundle = await makeBundle()
  const tampered = bundle.replace(/\.tar$/, '.tampered.tar')
  const bytes = readFileSync(bundle)
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01
  writeFileSync(tampered, bytes)

  await signIn(page, ADMIN)
  const card = page.getByTestId('bundle-card')
  await card.scrollIntoViewIfNeeded()
  await expect(card).toContainText('up to 8.0 GiB')
  const upload = card.getByRole('button', { name: 'Upload bundle' })
  await expect(upload).toBeDisabled()

  await card.getByTestId('bundle-file').setInputFiles(tampered)
  await upload.click()
  await expect(card.getByTestId('bundle-error')).toContainText('bundle refused, nothing was kept: the bundle\'s signature does not verify')
  await expect(upload).toBeEnabled()

  await card.getByTestId('bundle-file').setInputFiles(bundle)
  await expect(card.getByTestId('bundle-error')).toHaveCount(0)
  await upload.click()
  await expect(card.getByTestId('bundle-done')).toContainText(`Release ${VERSION} is ready to install`)
  await expect(page.getByRole('region', { name: /notifications/i }).getByText(`Release ${VERSION} is ready to install`)).toBeVisible()
  // The page offers it now, without a reload.
  await expect(page.getByTestId('release-version')).toHaveText(VERSION)
  await expectNoSeriousA11yViolations(page, '[data-testid="bundle-card"]')
})
