/** Process-wide instances built from the configuration: the store, the release source, the sidecar client. */
import { join } from 'node:path'
import { createDirectoryReleaseSource, unavailableReleaseSource, type ReleaseSource } from './release-source'
import { createSidecarClient, type SidecarClient } from './sidecar'
import { openSqliteStore } from './store/sqlite'
import type { SystemStore } from './store/types'
import type { ReconcileDeps } from './runs'

let store: SystemStore | undefined
let source: ReleaseSource | undefined
let sidecar: SidecarClient | undefined

export function useStore(): SystemStore {
  store ??= openSqliteStore(join(useOwlatConfig().dataDir, 'web.sqlite'))
  return store
}

export function useReleaseSource(): ReleaseSource {
  if (!source) {
    const config = useOwlatConfig()
    source = config.releaseSource === 'directory'
      ? createDirectoryReleaseSource({ dir: config.releaseDir, publicKey: () => config.releasePublicKey() })
      // Every check then records this error, so the page says why no releases are listed.
      : unavailableReleaseSource(config.releaseSource, 'not available in this build; set OWLAT_RELEASE_SOURCE=directory')
  }
  return source
}

export function useSidecar(): SidecarClient {
  if (!sidecar) {
    const config = useOwlatConfig()
    sidecar = createSidecarClient({ baseUrl: config.updaterUrl, secret: () => config.instanceSecret() })
  }
  return sidecar
}

export function useReconcileDeps(): ReconcileDeps {
  return { store: useStore(), sidecar: useSidecar(), leaseMs: useOwlatConfig().runLeaseMs }
}

/** Closes the store (server shutdown); the next `useStore()` would reopen it. */
export async function closeStore(): Promise<void> {
  const open = store
  store = undefined
  await open?.close()
}
