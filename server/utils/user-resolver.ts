/**
 * Who is signed in comes from the app the module lives in: it registers one resolver in a Nitro
 * plugin of its own (the standalone app's, playground/server/plugins/user-resolver.ts, is one),
 *
 *   export default defineNitroPlugin(() => {
 *     defineOwlatUserResolver(async event => ({ id, email, role: 'platform-admin' }) | null)
 *   })
 *
 * and every guard, the page and the audit trail take the user from it. The module has no sign-in,
 * users or session of its own.
 */
import { createError, type H3Event } from 'h3'
// Relative, not `#layers/…`: this file has no Nuxt-only imports, so tests load it as it is.
import { z } from 'zod'
import { notificationPreferenceSchema, type NotificationPreference } from '../../shared/notifications'
import { sessionUserSchema, type SessionUser } from '../../shared/schemas/api'

/** The signed-in user as the module needs them: a stable id, an email, and the role. */
export type OwlatUser = SessionUser
export type OwlatUserResolver = (event: H3Event) => OwlatUser | null | Promise<OwlatUser | null>

declare module 'h3' {
  interface H3EventContext {
    /** The resolver's answer for this request, asked once. */
    owlatSystemUser?: Promise<OwlatUser | null>
  }
}

let resolver: OwlatUserResolver | undefined
let warned = false

/** Registers the app's resolver (the last registration wins). Call it from a Nitro plugin. */
export function defineOwlatUserResolver(fn: OwlatUserResolver): OwlatUserResolver {
  resolver = fn
  return fn
}

export function hasOwlatUserResolver(): boolean {
  return resolver !== undefined
}

async function resolve(event: H3Event): Promise<OwlatUser | null> {
  if (!resolver) {
    if (!warned) {
      warned = true
      console.error('[owlat-system] no user resolver is registered: call defineOwlatUserResolver() in a Nitro plugin of the app; until then nobody is signed in and /api/system/* answers 401')
    }
    return null
  }
  const answer = await resolver(event)
  const parsed = sessionUserSchema.nullable().safeParse(answer)
  if (!parsed.success) {
    const detail = parsed.error.issues.map(i => `${i.path.join('.') || 'user'}: ${i.message}`).join('; ')
    console.error(`[owlat-system] the user resolver returned what is not a user or null: ${detail}`)
    throw createError({ statusCode: 500, statusMessage: 'Internal Server Error', message: `The app's user resolver returned an invalid user (${detail})` })
  }
  return parsed.data
}

/** The signed-in user, or null; the resolver runs once per request however often this is asked. */
export function useOwlatUser(event: H3Event): Promise<OwlatUser | null> {
  event.context.owlatSystemUser ??= resolve(event)
  return event.context.owlatSystemUser
}

/**
 * The app's platform admins, for the notifications (issue 17). A host app whose admins live in
 * its own user table registers one beside its resolver, so they are mailed too:
 *
 *   defineOwlatAdminDirectory({
 *     list: async () => [{ id, email, notifications }],        // notifications: kept with the admin, or left out (all)
 *     setNotifications: async (id, notifications) => { … },   // where the page's choice is kept
 *   })
 *
 * Without one, the admins are the module's own store's (the standalone app).
 */
export interface OwlatAdminDirectory {
  list: () => Promise<unknown[]> | unknown[]
  setNotifications?: (id: string, notifications: NotificationPreference) => Promise<void> | void
}

const directoryAdminSchema = z.object({
  id: z.string().min(1).max(200),
  email: z.email().max(320),
  notifications: notificationPreferenceSchema.optional(),
})
export type DirectoryAdmin = z.output<typeof directoryAdminSchema>

let directory: OwlatAdminDirectory | undefined

/** Registers the app's admin directory (the last registration wins). Call it from a Nitro plugin. */
export function defineOwlatAdminDirectory(fn: OwlatAdminDirectory): OwlatAdminDirectory {
  directory = fn
  return fn
}

export function useOwlatAdminDirectory(): OwlatAdminDirectory | undefined {
  return directory
}

/** The directory's admins, validated: what the app returns is input from outside the module. */
export async function listDirectoryAdmins(from: OwlatAdminDirectory): Promise<DirectoryAdmin[]> {
  const parsed = z.array(directoryAdminSchema).max(10_000).safeParse(await from.list())
  if (!parsed.success) {
    const detail = parsed.error.issues.map(i => `${i.path.join('.') || 'list'}: ${i.message}`).join('; ')
    throw new Error(`the app's admin directory returned what is not a list of admins (${detail})`)
  }
  return parsed.data
}
