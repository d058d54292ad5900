// One outbox per web process delivers the notifications queued in the store (issue 17). The
// channels' settings are read at start: a bad one stops the server with a message naming it.
// (server/plugins/close-store.ts stops the outbox on close, before the store.)
export default defineNitroPlugin(() => {
  try {
    useOwlatConfig()
    useNotifyConfig()
  }
  catch (err) {
    console.error(`[notify] ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  }
  const { webhooks, mail } = useNotifyConfig()
  // Nothing to deliver to: queued deliveries (from a time it was set) wait for it to come back.
  if (!webhooks && !mail) return
  useOutbox().start(NOTIFY_INTERVAL_MS)
})
