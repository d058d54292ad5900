// Every state-changing request to the module's API: JSON only, and from the app's own origin
// (server/utils/csrf.ts). A host's own routes are the host's to guard (the standalone app does).
export default defineEventHandler(event => guardCrossSite(event, MODULE_API_PREFIXES))
