/** Often enough that two tabs (two admins) agree within two seconds; rare enough to stay cheap. */
const POLL_INTERVAL_MS = 1200

/**
 * Keeps the shared status read fresh while the document is visible, so every admin sees a run
 * another admin (or the CLI) started, and its end, without reloading. A hidden tab stops asking
 * and catches up the moment it is shown again. Used once, by the layout's run banner.
 */
export function useStatusPolling(): void {
  const store = useSystemStore()
  useVisiblePoll(() => store.refreshStatus(), POLL_INTERVAL_MS)
}
