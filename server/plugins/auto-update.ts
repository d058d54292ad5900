// The automatic update scheduler (issue 17), every OWLAT_SCHEDULE_TICK_MS; it acts only when the
// policy allows a release now, and on one replica per slot (server/utils/auto-update.ts).
// server/plugins/close-store.ts stops it on close, before the store.
export default defineNitroPlugin(() => {
  startAutoUpdateScheduler(useOwlatConfig().scheduleTickMs)
})
