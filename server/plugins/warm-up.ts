// Renders the module's page once as the server starts (signed out: the route middleware, the
// renderer, Nuxt UI and the app's chunks load), then lets healthz and the version route answer.
export default defineNitroPlugin((nitroApp) => {
  const { path } = useRuntimeConfig().public.owlatSystem
  // After every plugin has registered its hooks.
  setTimeout(() => void warmUp(async () => {
    const res = await nitroApp.localFetch(path, { headers: { accept: 'text/html' }, redirect: 'manual' })
    await res.arrayBuffer()
    // The sign-in page the visitor was sent to: most apps render their shell there.
    const location = res.headers.get('location')
    if (location?.startsWith('/')) await (await nitroApp.localFetch(location, { headers: { accept: 'text/html' } })).arrayBuffer()
  }), 0)
})
