/**
 * `release-index-fresh`: whether the signed release index this instance judges releases by is
 * usable and unexpired. An expired one means the source (or a mirror, or a proxy) keeps serving
 * an old list, a freeze attack or a publisher that stopped signing: blocking, so no update starts
 * on it unless an admin overrides the plan's checks with a reason. Node only.
 */
import type { ReleaseIndex } from '../../schemas/release'
import { fail, ok, type Check } from './types'

export const RELEASE_INDEX_CHECK_ID = 'release-index-fresh'

export interface IndexFreshnessInput {
  index: ReleaseIndex | null
  expired: boolean
  /** Why there is no usable index. */
  error: string | null
}

export function checkReleaseIndexFresh(input: IndexFreshnessInput): Check {
  if (!input.index) {
    return fail(RELEASE_INDEX_CHECK_ID, `no usable signed release index: ${input.error ?? 'none was found'}`,
      'Check for releases again; the release source must publish releases-index.json and its .sig signed by a trusted key', true)
  }
  if (input.expired) {
    return fail(RELEASE_INDEX_CHECK_ID, `release information is stale since ${input.index.expiresAt} (index serial ${input.index.serial})`,
      'Check for releases again. If the source keeps serving this index, it is frozen (or the publisher stopped re-signing): only override with a reason once you trust it', true)
  }
  return ok(RELEASE_INDEX_CHECK_ID, `signed release index serial ${input.index.serial}, valid until ${input.index.expiresAt}`, true)
}
