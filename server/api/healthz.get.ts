// Liveness for the sidecar's verify step and the compose healthcheck. The demo's broken beta
// sets OWLAT_DEMO_FAULT=unhealthy so a failed update (and its automatic restore) can be shown.
// Said once per process, like a real fault would show in the web's output: the updater keeps the
// failing web's last lines with the run, so the page and the CLI can show the cause.
let faultReported = false

export default defineEventHandler((event) => {
  if (process.env.OWLAT_DEMO_FAULT === 'unhealthy') {
    if (!faultReported) {
      faultReported = true
      console.error('[owlat] health check failed: this demo release is built broken (OWLAT_DEMO_FAULT=unhealthy) and will never report healthy')
    }
    setResponseStatus(event, 503)
    return { status: 'unhealthy' }
  }
  return { status: 'ok' }
})
