/** The process's sign-in throttle and the address it keys clients by, from the configuration. */
import type { H3Event } from 'h3'
import type { BlockList } from 'node:net'

let throttle: SignInThrottle | undefined
let trusted: BlockList | undefined

export function useSignInThrottle(): SignInThrottle {
  throttle ??= new SignInThrottle(useOwlatConfig().signIn)
  return throttle
}

/** Who is asking: the peer's address, or what a trusted proxy (OWLAT_TRUSTED_PROXIES) forwarded. */
export function signInAddress(event: H3Event): string {
  trusted ??= trustedProxyList(useOwlatConfig().trustedProxies)
  return clientAddress(event.node.req.socket.remoteAddress, getRequestHeader(event, 'x-forwarded-for'), trusted)
}

/**
 * Counts a password attempt for `email` from this request's client, or refuses it with 429 and
 * `Retry-After` while a lock holds it. Call `succeeded()` once the password proved right.
 */
export function takeSignInAttempt(event: H3Event, email: string): { succeeded: () => void } {
  const address = signInAddress(event)
  const throttle = useSignInThrottle()
  const answer = throttle.attempt(email, address)
  if (!answer.ok) {
    const seconds = Math.max(1, Math.ceil(answer.retryAfterMs / 1000))
    setResponseHeader(event, 'retry-after', seconds)
    throw createError({
      statusCode: 429,
      statusMessage: 'Too Many Requests',
      message: `Too many failed sign-ins; try again in ${seconds} s`,
      data: { retryAfter: seconds },
    })
  }
  return { succeeded: () => throttle.succeeded(email, address) }
}
