// The session nuxt-auth-utils seals into the cookie (playground/server/utils/sessions.ts sets it).
import type { UserRole } from '../../../shared/schemas/api'

declare module '#auth-utils' {
  interface User {
    id: string
    email: string
    role: UserRole
  }
  interface SecureSessionData {
    /** The user's `sessionVersion` at sign-in; the session ends when the stored one moves on. */
    sessionVersion: number
  }
}

export {}
