/**
 * Calls `fn` now and then every `intervalMs` (read anew for each wait) after the previous call settled, while `active`
 * holds and the tab is visible (VueUse `useTimeoutPoll`): a hidden tab stops asking and catches
 * up the moment it is shown again. Client only; stops with the calling component.
 */
export function useVisiblePoll(fn: () => Promise<void>, intervalMs: MaybeRefOrGetter<number>, active: MaybeRefOrGetter<boolean> = true) {
  const visibility = useDocumentVisibility()
  const { isActive, pause, resume } = useTimeoutPoll(fn, intervalMs, { immediate: false, immediateCallback: true })

  watch(() => import.meta.client && toValue(active) && visibility.value === 'visible', (on) => {
    if (on) resume()
    else pause()
  }, { immediate: true })

  /** Asks again at once (the poll target changed); nothing while paused. */
  function restart(): void {
    if (!isActive.value) return
    pause()
    resume()
  }

  return { polling: isActive, restart }
}
