// Renders the module's page once as the server starts, as an admin would get it but with no
// session and so no data (server/utils/warm-up.ts: the renderer, Nuxt UI and the page's
// components load), and the sign-in page, then lets healthz and the version route answer.
export default defineNitroPlugin((nitroApp) => {
  const { path } = useRuntimeConfig().public.owlatSystem
  // After every plugin has registered its hooks.
  setTimeout(() => void warmUp(async () => {
    await (await nitroApp.localFetch(path, { headers: { accept: 'text/html', ...warmUpRequestHeaders() } })).arrayBuffer()
    // Signed out, the visitor is sent to sign in: most apps render their shell there.
    const res = await nitroApp.localFetch(path, { headers: { accept: 'text/html' }, redirect: 'manual' })
    await res.arrayBuffer()
    const location = res.headers.get('location')
    if (location?.startsWith('/')) await (await nitroApp.localFetch(location, { headers: { accept: 'text/html' } })).arrayBuffer()
  }), 0)
})
