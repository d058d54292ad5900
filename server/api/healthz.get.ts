import { faultActive, parseDemoFault } from '#layers/owlat-system/shared/demo-fault'

// Liveness for the sidecar's verify step, the compose healthcheck and the launcher: the web
// answers and its store reads (a corrupt web.sqlite is not healthy). The demo's broken beta
// sets OWLAT_DEMO_FAULT=unhealthy so a failed update (and its automatic restore) can be shown; the
// second, `unhealthy-after:<ms>`, turns unhealthy only after a while, for the watch window to catch.
// Said once per process, like a real fault would show in the web's output: the updater keeps the
// failing web's last lines with the run, so the page and the CLI can show the cause.
let faultReported = false
const fault = parseDemoFault(process.env.OWLAT_DEMO_FAULT)
// A late fault counts from the first answer that would have been healthy, not from the process
// start: a slow start (warm-up on a busy host) must not turn it into a web that is never healthy.
let warmSince: number | null = null

export default defineEventHandler(async (event) => {
  // Not healthy before the first render is done (server/utils/warm-up.ts).
  if (!isWarm()) {
    setResponseStatus(event, 503)
    setResponseHeader(event, 'Retry-After', 1)
    return { status: 'warming up' }
  }
  warmSince ??= Date.now()
  if (faultActive(fault, Date.now() - warmSince)) {
    if (!faultReported) {
      faultReported = true
      console.error(fault!.unhealthyAfterMs === 0
        ? '[owlat] health check failed: this demo release is built broken (OWLAT_DEMO_FAULT=unhealthy) and will never report healthy'
        : `[owlat] health check failed: this demo release is built to fall over ${fault!.unhealthyAfterMs / 1000} s after it first answered healthy (OWLAT_DEMO_FAULT=${process.env.OWLAT_DEMO_FAULT}) and stays unhealthy`)
    }
    setResponseStatus(event, 503)
    return { status: 'unhealthy' }
  }
  try {
    await useStore().check?.()
  }
  catch (err) {
    setResponseStatus(event, 503)
    return { status: 'unhealthy', error: err instanceof Error ? err.message : String(err) }
  }
  return { status: 'ok' }
})
