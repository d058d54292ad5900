/** Guards for route handlers: the first line of every /api/system/* handler. */
import type { H3Event } from 'h3'
import { hasSignatureHeaders, ReplayGuard, verifyRequestHeaders } from '#shared/request-signing'
import { sessionUserSchema, type SessionUser } from '#shared/schemas/api'

/**
 * A platform admin's session, re-checked against the store so a removed user or a changed role
 * takes effect at once, not when the cookie expires. 401 signed out, 403 for anyone else.
 */
export async function requirePlatformAdmin(event: H3Event): Promise<SessionUser> {
  const session = await getUserSession(event)
  const parsed = sessionUserSchema.safeParse(session.user)
  const user = parsed.success ? await useStore().getUserById(parsed.data.id) : null
  if (!user) {
    throw createError({ statusCode: 401, statusMessage: 'Unauthorized', message: 'Sign in to continue' })
  }
  if (user.role !== 'platform-admin') {
    throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'Only platform admins can manage system updates' })
  }
  return { id: user.id, email: user.email, role: user.role }
}

// Per process: a signature seen once within the skew window is refused the second time.
const replay = new ReplayGuard()

export type AdminOrSidecar = { via: 'session', user: SessionUser } | { via: 'sidecar' }

/**
 * A platform admin's session, or a request the sidecar signed with the instance secret (its
 * verify step reads the version while no one is signed in). A signed request that fails the
 * check is refused outright rather than falling back to the session.
 */
export async function requireAdminOrSidecar(event: H3Event): Promise<AdminOrSidecar> {
  const header = (name: string) => getRequestHeader(event, name)
  if (!hasSignatureHeaders(header)) {
    return { via: 'session', user: await requirePlatformAdmin(event) }
  }
  const body = event.method === 'GET' || event.method === 'HEAD' ? undefined : await readRawBody(event, false)
  const result = verifyRequestHeaders({ header, method: event.method, path: event.path, body, secret: useOwlatConfig().instanceSecret(), replay })
  if (!result.ok) {
    throw createError({ statusCode: 401, statusMessage: 'Unauthorized', message: `Signed request refused: ${result.reason}` })
  }
  return { via: 'sidecar' }
}
