// The session user nuxt-auth-utils seals into the cookie (playground/server/api/auth/login.post.ts sets it).
import type { UserRole } from '../../../shared/schemas/api'

declare module '#auth-utils' {
  interface User {
    id: string
    email: string
    role: UserRole
  }
}

export {}
