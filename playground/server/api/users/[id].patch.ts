import { z } from 'zod'
import { userUpdateBodySchema } from '#layers/owlat-system/shared/schemas/api'
import { UserNotFoundError } from '#layers/owlat-system/server/utils/store/types'

const paramsSchema = z.object({ id: z.string().min(1).max(100) })

// An admin sets a user's role or password. Either ends every session of that user (the store
// raises the session version); an admin changing their own keeps this browser signed in.
export default defineEventHandler(async (event) => {
  const admin = await requirePlatformAdmin(event)
  const { id } = await getValidatedRouterParams(event, zodValidator(paramsSchema))
  const body = await readValidatedBody(event, zodValidator(userUpdateBodySchema))
  try {
    const user = await useStore().updateUser(id, {
      ...(body.role !== undefined ? { role: body.role } : {}),
      ...(body.password !== undefined ? { passwordHash: await hashPassword(body.password) } : {}),
    })
    console.info(`[auth] ${admin.email} changed ${user.email}: ${[body.role && `role ${body.role}`, body.password && 'password'].filter(Boolean).join(', ')}`)
    if (user.id === admin.id) await startSession(event, user)
    return { user: { id: user.id, email: user.email, role: user.role, createdAt: user.createdAt } }
  }
  catch (err) {
    if (err instanceof UserNotFoundError) throw createError({ statusCode: 404, statusMessage: 'Not Found', message: err.message })
    throw err
  }
})
