import { historySchema, type Run } from '#layers/owlat-system/shared/schemas/api'

/** `GET /api/system/history`, newest first, read again whenever a run starts or ends. */
export function useSystemHistory() {
  const { data, ...rest } = useSystemFetch('system-history', '/api/system/history', {
    parse: (body): Run[] => [...historySchema.parse(body).runs].sort((a, b) => b.startedAt - a.startedAt),
    failure: 'Could not read the update history.',
  })
  return { runs: computed<Run[]>(() => data.value ?? []), ...rest }
}
