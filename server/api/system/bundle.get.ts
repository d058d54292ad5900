/**
 * The bug-report bundle (the set `owlat doctor --bundle` writes, from the updater's side: stack
 * checks, ps, the last log lines per service, the compose file, the last runs), secrets masked by
 * the updater before a byte leaves it. Platform admins only.
 */
export default defineEventHandler(async (event) => {
  await requirePlatformAdmin(event)
  let bytes: Buffer
  try {
    bytes = await useSidecar().bundle()
  }
  catch (err) {
    throw createError({ statusCode: 502, statusMessage: 'Bad Gateway', message: `The updater could not make the bundle: ${err instanceof Error ? err.message : String(err)}` })
  }
  setResponseHeader(event, 'Content-Type', 'application/gzip')
  setResponseHeader(event, 'Content-Disposition', `attachment; filename="owlat-bundle-${new Date().toISOString().replace(/[:.]/g, '-')}.tar.gz"`)
  setResponseHeader(event, 'Cache-Control', 'no-store')
  return bytes
})
