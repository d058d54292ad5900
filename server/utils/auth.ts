/** Guards for route handlers: the first line of every /api/system/* handler. */
import type { H3Event } from 'h3'
import { hasSignatureHeaders, ReplayGuard, verifyRequestHeaders } from '#layers/owlat-system/shared/request-signing'
import type { SessionUser } from '#layers/owlat-system/shared/schemas/api'

/**
 * A platform admin, as the app's user resolver says (server/utils/user-resolver.ts): 401 when
 * nobody is signed in, 403 for anyone but a platform admin. The resolver runs per request, so a
 * removed user or a changed role takes effect at once.
 */
export async function requirePlatformAdmin(event: H3Event): Promise<SessionUser> {
  const user = await useOwlatUser(event)
  if (!user) {
    throw createError({
      statusCode: 401,
      statusMessage: 'Unauthorized',
      message: hasOwlatUserResolver() ? 'Sign in to continue' : 'Nobody can be signed in: the app registers no user resolver (defineOwlatUserResolver)',
    })
  }
  if (user.role !== 'platform-admin') {
    throw createError({ statusCode: 403, statusMessage: 'Forbidden', message: 'Only platform admins can manage system updates' })
  }
  return user
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
