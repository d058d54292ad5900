// Close the SQLite store on shutdown so the WAL is checkpointed before the process exits; what
// uses the store in the background (the scheduler, the notification outbox) stops first.
export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook('close', async () => {
    stopAutoUpdateScheduler()
    await stopOutbox()
    await closeStore()
  })
})
