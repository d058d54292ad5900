/** Process-wide instances built from the configuration: the store, the release source, the sidecar client. */
import { join } from 'node:path'
import { composePolicyOptionsFromEnv, type ComposePolicyOptions } from '../../shared/compose-policy'
import { createReleaseSource, type ReleaseSource } from '../../shared/releases/source'
import { createSidecarClient, type SidecarBackupsClient, type SidecarBundlesClient, type SidecarClient } from './sidecar'
import { convexHttpCaller, createConvexStore } from './store/convex'
import { openSqliteStore } from './store/sqlite'
import type { SystemStore } from './store/types'
import type { ReconcileDeps } from './runs'
import { createReconciler, type Reconciler } from './reconciler'
import { notifyRun } from './notify'

let store: SystemStore | undefined
let source: ReleaseSource | undefined
let sidecar: (SidecarClient & SidecarBackupsClient & SidecarBundlesClient) | undefined
let reconciler: Reconciler | undefined

/**
 * Convex when OWLAT_CONVEX_URL and OWLAT_CONVEX_ADMIN_KEY are set (production: the component in
 * the app's deployment, reached through its `owlatSystem.convexModule` module), else the embedded
 * SQLite file. Opening the Convex store makes no request, so an unreachable backend never stops
 * the server from starting: each call then fails with a 503 that says why, and the log says it
 * once per outage.
 */
export function useStore(): SystemStore {
  if (!store) {
    const config = useOwlatConfig()
    store = config.convex
      ? createConvexStore(convexHttpCaller({
          ...config.convex,
          module: useRuntimeConfig().owlatSystem.convexModule,
          toError: err => createError({ statusCode: 503, statusMessage: 'Service Unavailable', message: err.message, cause: err }),
        }))
      : openSqliteStore(join(config.dataDir, 'web.sqlite'))
  }
  return store
}

/**
 * The compose policy as this instance applies it (OWLAT_ALLOWED_*), with relative binds taken
 * from the project folder releases are deployed in: the same options the updater and the CLI use.
 */
export function useComposePolicy(): ComposePolicyOptions {
  return composePolicyOptionsFromEnv(process.env, useOwlatConfig().owlatDir)
}

/** Releases as the page lists them: a release the compose policy refuses is listed as refused. */
export function useReleaseSource(): ReleaseSource {
  // Keys announced by a signed index (rotation) are kept in the store and count from then on.
  source ??= createReleaseSource(useOwlatConfig(), useComposePolicy(), () => useStore().getReleaseTrust())
  return source
}

export function useSidecar(): SidecarClient {
  if (!sidecar) {
    const config = useOwlatConfig()
    sidecar = createSidecarClient({ baseUrl: config.updaterUrl, secret: () => config.instanceSecret() })
  }
  return sidecar
}

/** The updater's backup archives (`GET /api/system/backups`): the same client, its backup reads. */
export function useSidecarBackups(): SidecarBackupsClient {
  useSidecar()
  return sidecar as SidecarBackupsClient
}

/** The updater's bundle import (`POST /api/system/bundles`): the same client. */
export function useSidecarBundles(): SidecarBundlesClient {
  useSidecar()
  return sidecar as SidecarBundlesClient
}

export function useReconcileDeps(): ReconcileDeps {
  return { store: useStore(), sidecar: useSidecar(), leaseMs: useOwlatConfig().runLeaseMs, onRunChanged: notifyRun }
}

/** The process's reconciliation loop (server/plugins/reconcile-runs.ts starts it). */
export function useReconciler(): Reconciler {
  reconciler ??= createReconciler(useReconcileDeps)
  return reconciler
}

/** Closes the store (server shutdown); the next `useStore()` would reopen it. */
export async function closeStore(): Promise<void> {
  const open = store
  store = undefined
  await open?.close()
}
