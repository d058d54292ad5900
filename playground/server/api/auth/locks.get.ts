import type { z } from 'zod'
import type { signInLocksAnswerSchema } from '#layers/owlat-system/shared/schemas/api'

// The sign-in locks in force in this process, for an admin to see who is locked out and clear it.
export default defineEventHandler(async (event): Promise<z.infer<typeof signInLocksAnswerSchema>> => {
  await requirePlatformAdmin(event)
  setResponseHeader(event, 'cache-control', 'no-store')
  return { locks: useSignInThrottle().locks() }
})
