import type { SystemUserAnswer } from '#layers/owlat-system/shared/schemas/api'

// Who is signed in, for the page and the banners to decide what to show: answered to anyone (a
// signed-out visitor learns only that nobody is signed in), unlike everything under /api/system/.
export default defineEventHandler(async (event): Promise<SystemUserAnswer> => {
  setResponseHeader(event, 'cache-control', 'no-store')
  return { user: await useOwlatUser(event) }
})
