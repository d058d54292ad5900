/** The shared status read; loads it once the component is mounted (never during SSR). */
export function useSystemStatus() {
  const store = useSystemStore()
  const { status, statusError, statusLoading } = storeToRefs(store)

  onMounted(() => {
    void store.refreshStatus()
  })

  return { status, error: statusError, loading: statusLoading, refresh: store.refreshStatus }
}
