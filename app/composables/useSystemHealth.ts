import { healthResponseSchema } from '#layers/owlat-system/shared/schemas/api'

/** `GET /api/system/health`, read again whenever a run starts or ends. */
export function useSystemHealth() {
  const { data, ...rest } = useSystemFetch('system-health', '/api/system/health', {
    parse: body => healthResponseSchema.parse(body),
    failure: 'Could not read service health.',
  })
  return { health: data, ...rest }
}
