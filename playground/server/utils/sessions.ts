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
  const sealed = await sealedSession(event)
  if (!sealed) return null
  const user = await useStore().getUserById(sealed.user.id)
  return user && user.sessionVersion === sealed.secure.sessionVersion ? user : null
}

type Sealed = z.infer<typeof sealedSchema>

/**
 * Unsealing the cookie (PBKDF2 and AES-GCM through WebCrypto) costs more than the whole status
 * read a page polls, so what a cookie held is kept briefly, by its exact sealed text. Safe: the
 * same text always unseals to the same contents, no entry outlives the seal's own expiry, and
 * revocation does not rest on it (the stored `sessionVersion` is compared on every request).
 */
const UNSEALED_KEEP_MS = 10_000
const UNSEALED_MAX = 1000
const unsealed = new Map<string, { until: number, session: Sealed }>()

async function sealedSession(event: H3Event): Promise<Sealed | null> {
  // Without the event: the runtime config as loaded once (per event it is rebuilt from the environment).
  const cookie = getCookie(event, useRuntimeConfig().session.name ?? 'nuxt-session')
  const now = Date.now()
  const kept = cookie ? unsealed.get(cookie) : undefined
  if (kept && kept.until > now) return kept.session
  if (kept) unsealed.delete(cookie!)
  const parsed = sealedSchema.safeParse(await getUserSession(event))
  if (!parsed.success) return null
  if (cookie) {
    // Iron's format: `Fe26.2*id*salt*iv*data*expiration*salt*mac`: the seal's expiry in ms, the sixth field.
    const expiration = Number(cookie.split('*')[5])
    const until = Math.min(now + UNSEALED_KEEP_MS, expiration > 0 ? expiration : Number.POSITIVE_INFINITY)
    if (unsealed.size >= UNSEALED_MAX) unsealed.delete(unsealed.keys().next().value!)
    unsealed.set(cookie, { until, session: parsed.data })
  }
  return parsed.data
}
