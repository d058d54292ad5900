/** Often enough that two tabs (two admins) agree within two seconds; rare enough to stay cheap. */
const POLL_INTERVAL_MS = 1200
/** While the server is away (restarting for an update): it is read again within moments of its return. */
const AWAY_POLL_INTERVAL_MS = 300

/**
 * Keeps the shared status read fresh while the document is visible, so every admin sees a run
 * another admin (or the CLI) started, and its end, without reloading; and, while the server is
 * away, keeps asking until it answers, when every part of the page reads again. A hidden tab
 * stops asking and catches up the moment it is shown again. The banners and the pages each call
 * it, so it runs wherever the app puts them; only one of them asks at a time.
 */
export function useStatusPolling(): void {
  const store = useSystemStore()
  const me = Symbol('status poller')
  useVisiblePoll(async () => {
    store.pollOwner ??= me
    if (store.pollOwner === me) await store.refreshStatus()
  }, () => store.serverReachable ? POLL_INTERVAL_MS : AWAY_POLL_INTERVAL_MS)
  onScopeDispose(() => {
    if (store.pollOwner === me) store.pollOwner = null
  })
}
