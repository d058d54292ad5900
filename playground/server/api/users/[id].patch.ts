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
  const store = useStore()
  if (body.role === 'member') {
    // Someone must be left to manage the instance. Checked here, not atomically in the store: two
    // admins demoting each other at the same instant could still both succeed.
    const admins = (await store.listUsers()).filter(u => u.role === 'platform-admin')
    if (admins.length === 1 && admins[0]!.id === id) {
      throw createError({ statusCode: 409, statusMessage: 'Conflict', message: 'This is the last platform admin: make another user a platform admin first' })
    }
  }
  try {
    const user = await store.updateUser(id, {
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
