/**
 * The standalone app's sessions: a sealed cookie (nuxt-auth-utils) that names a user of the
 * module's store and carries the user's `sessionVersion` as it was at sign-in. Signing out, a new
 * password and a role change raise the stored version, which ends every session of that user at
 * once, on every replica: the resolver compares the two on the user row it reads per request
 * anyway, so revocation costs no extra store round trip.
 */
import type { H3Event } from 'h3'
import { z } from 'zod'
import type { StoredUser } from '#layers/owlat-system/shared/schemas/api'
import { sessionUserSchema } from '#layers/owlat-system/shared/schemas/api'

const sealedSchema = z.object({
  user: sessionUserSchema,
  secure: z.object({ sessionVersion: z.number().int().min(0) }),
})

/** Starts a session for `user`, replacing whatever the cookie held. */
export async function startSession(event: H3Event, user: StoredUser): Promise<void> {
  await replaceUserSession(event, {
    user: { id: user.id, email: user.email, role: user.role },
    // Server-only part of the session: never sent to the browser by /api/_auth/session.
    secure: { sessionVersion: user.sessionVersion },
  })
}

/**
 * The user the request's session names, while that session is still valid: the user exists and
 * the session carries the user's current version. A cookie from before the version was kept (or
 * without one) is no session.
 */
export async function sessionUser(event: H3Event): Promise<StoredUser | null> {
  const parsed = sealedSchema.safeParse(await getUserSession(event))
  if (!parsed.success) return null
  const user = await useStore().getUserById(parsed.data.user.id)
  return user && user.sessionVersion === parsed.data.secure.sessionVersion ? user : null
}
