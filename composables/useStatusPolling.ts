/** Often enough that two tabs (two admins) agree within two seconds; rare enough to stay cheap. */
const POLL_INTERVAL_MS = 1200

/**
 * Keeps the shared status read fresh while the document is visible, so every admin sees a run
 * another admin (or the CLI) started, and its end, without reloading. A hidden tab stops asking
 * and catches up the moment it is shown again. Used once, by the layout's run banner.
 */
export function useStatusPolling(): void {
  const store = useSystemStore()
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  async function tick(): Promise<void> {
    clearTimeout(timer)
    if (stopped) return
    if (document.visibilityState === 'visible') await store.refreshStatus()
    if (!stopped) timer = setTimeout(tick, POLL_INTERVAL_MS)
  }

  function onVisibility(): void {
    if (document.visibilityState === 'visible') void tick()
  }

  onMounted(() => {
    document.addEventListener('visibilitychange', onVisibility)
    void tick()
  })

  onBeforeUnmount(() => {
    stopped = true
    clearTimeout(timer)
    document.removeEventListener('visibilitychange', onVisibility)
  })
}
