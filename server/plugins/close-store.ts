// Close the SQLite store on shutdown so the WAL is checkpointed before the process exits.
export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook('close', () => closeStore())
})
