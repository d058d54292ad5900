import { clearLocksQuerySchema } from '#layers/owlat-system/shared/schemas/api'

// An admin ends sign-in locks before they run out: an account's (all its addresses, or one), or an address's.
export default defineEventHandler(async (event) => {
  const admin = await requirePlatformAdmin(event)
  const query = await getValidatedQuery(event, zodValidator(clearLocksQuerySchema))
  const cleared = useSignInThrottle().clear(query)
  console.info(`[auth] ${admin.email} cleared ${cleared} sign-in lock(s) for ${[query.email, query.address].filter(Boolean).join(' at ')}`)
  return { cleared }
})
