// The embedded store opens at start, not at the first request: a corrupt or unreadable web.sqlite
// stops the server with a message naming the file, instead of a web that answers 500 everywhere.
// (Convex makes no request at start; its outages are the routes' 503s.)
export default defineNitroPlugin(() => {
  try {
    useStore()
  }
  catch (err) {
    console.error(`[store] ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  }
})
