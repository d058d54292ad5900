// Keeps the store's runs true to the sidecar's journal on a schedule, so the routes the page
// polls (status, a run, history) only read the store.
export default defineNitroPlugin((nitroApp) => {
  const reconciler = useReconciler()
  reconciler.start()
  nitroApp.hooks.hook('close', () => reconciler.stop())
})
