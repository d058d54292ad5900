/**
 * The shared status read: rendered on the server with the page (so the version shows without a
 * request after load), and read once the component is mounted when the page did not bring it.
 */
export function useSystemStatus() {
  const store = useSystemStore()
  const { status, statusError, statusLoading } = storeToRefs(store)

  onServerPrefetch(() => store.refreshStatus())
  onMounted(() => {
    // The layout's status poll asks again on its own schedule.
    if (!status.value) void store.refreshStatus()
  })

  return { status, error: statusError, loading: statusLoading, refresh: store.refreshStatus }
}
