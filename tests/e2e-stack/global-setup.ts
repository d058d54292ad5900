/**
 * Builds (from the layer cache, when the Docker suite ran first) and pushes the images, signs two
 * releases and installs the production stack at the installed version on the configured port;
 * returns the teardown that removes it.
 */
import { buildAndPushImages, buildAndPushStandIns, installStack, makeReleases, removeStack, waitForHttp } from '../docker/production'
import { requireDocker, SKIP_DOCKER } from '../docker/stack'
import { INSTALLED_VERSION, STACK_BASE_URL, STACK_HTTP_PORT, TARGET_VERSION } from './env'

export default async function globalSetup(): Promise<(() => Promise<void>) | undefined> {
  if (SKIP_DOCKER) return undefined
  await requireDocker()
  await buildAndPushStandIns()
  for (const version of [INSTALLED_VERSION, TARGET_VERSION]) await buildAndPushImages(version)
  const releases = makeReleases([
    { version: INSTALLED_VERSION, publishedAt: '2026-09-01T10:00:00Z', notes: `## ${INSTALLED_VERSION}\n\n- Faster contact import.\n` },
    { version: TARGET_VERSION, publishedAt: '2026-11-01T10:00:00Z', notes: `## ${TARGET_VERSION}\n\n**New:** segments can be scheduled.\n` },
  ])
  const stack = await installStack(releases, INSTALLED_VERSION, { OWLAT_HTTP_PORT: String(STACK_HTTP_PORT) })
  await waitForHttp(`${STACK_BASE_URL}/api/healthz`)
  return async () => {
    if (process.env.OWLAT_KEEP_TEST_STACK !== '1') await removeStack(stack)
  }
}
