import type { z } from 'zod'
import type { usersAnswerSchema } from '#layers/owlat-system/shared/schemas/api'

// The standalone app's accounts, for admins: never the password hashes.
export default defineEventHandler(async (event): Promise<z.infer<typeof usersAnswerSchema>> => {
  await requirePlatformAdmin(event)
  setResponseHeader(event, 'cache-control', 'no-store')
  const users = await useStore().listUsers()
  return { users: users.map(({ id, email, role, createdAt }) => ({ id, email, role, createdAt })) }
})
