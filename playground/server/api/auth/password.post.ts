import { changePasswordBodySchema } from '#layers/owlat-system/shared/schemas/api'

// The signed-in user's own password. A new password ends every other session of the user (a
// cookie copied elsewhere stops working); this browser gets a fresh session.
export default defineEventHandler(async (event) => {
  const user = await sessionUser(event)
  if (!user) throw createError({ statusCode: 401, statusMessage: 'Unauthorized', message: 'Sign in to continue' })
  const body = await readValidatedBody(event, zodValidator(changePasswordBodySchema))
  // Guessing the current password with a stolen cookie is throttled like signing in.
  const attempt = takeSignInAttempt(event, user.email)
  if (!await verifyPassword(user.passwordHash, body.currentPassword)) {
    throw createError({ statusCode: 400, statusMessage: 'Bad Request', message: 'The current password is wrong' })
  }
  attempt.succeeded()
  const updated = await useStore().updateUser(user.id, { passwordHash: await hashPassword(body.newPassword) })
  await startSession(event, updated)
  return { ok: true }
})
