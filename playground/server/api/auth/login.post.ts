import { loginBodySchema } from '#layers/owlat-system/shared/schemas/api'

// Verified against when the email is unknown, so both failures take the same time.
let decoyHash: Promise<string> | undefined

export default defineEventHandler(async (event) => {
  const body = await readValidatedBody(event, zodValidator(loginBodySchema))
  // Unknown emails are counted like known ones, so a lock tells nothing about who has an account.
  const attempt = takeSignInAttempt(event, body.email)
  await seedAdminFromEnv()
  const user = await useStore().getUserByEmail(body.email)
  decoyHash ??= hashPassword('decoy password that never matches')
  const ok = await verifyPassword(user?.passwordHash ?? await decoyHash, body.password)
  if (!user || !ok) {
    throw createError({ statusCode: 401, statusMessage: 'Unauthorized', message: 'Invalid email or password' })
  }
  attempt.succeeded()
  await startSession(event, user)
  return { user: { id: user.id, email: user.email, role: user.role } }
})
