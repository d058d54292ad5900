/**
 * Whether this is the server's own warm-up render of the page at start (server/utils/warm-up.ts):
 * the admin page's components render, with no session and so no data, to load their code.
 */
export function useWarmUpRender(): boolean {
  return import.meta.server && useRequestEvent()?.context.owlatWarmUp === true
}
