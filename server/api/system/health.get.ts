import type { HealthResponse } from '#layers/owlat-system/shared/schemas/api'

// The sidecar being down is a state to show, not an error of this endpoint.
export default defineEventHandler(async (event): Promise<HealthResponse> => {
  await requirePlatformAdmin(event)
  try {
    const health = await useSidecar().health()
    return { reachable: true, driver: health.driver, version: health.version, services: health.services, backups: health.backups, rehearsals: health.rehearsals, error: null }
  }
  catch (err) {
    return { reachable: false, driver: null, version: null, services: [], backups: null, rehearsals: null, error: err instanceof Error ? err.message : String(err) }
  }
})
