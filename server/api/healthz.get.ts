// Liveness for the sidecar's verify step and the compose healthcheck. The demo's broken beta
// sets OWLAT_DEMO_FAULT=unhealthy so a failed update (and its automatic restore) can be shown.
export default defineEventHandler((event) => {
  if (process.env.OWLAT_DEMO_FAULT === 'unhealthy') {
    setResponseStatus(event, 503)
    return { status: 'unhealthy' }
  }
  return { status: 'ok' }
})
