// The start's own warm-up render (server/utils/warm-up.ts) renders the admin page's components;
// the page reads this mark during SSR. Nothing else reads it: API routes keep their guards.
export default defineEventHandler((event) => {
  event.context.owlatWarmUp = isWarmUpRequest(event)
})
