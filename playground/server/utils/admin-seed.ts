/** The first platform admin from OWLAT_ADMIN_EMAIL / OWLAT_ADMIN_PASSWORD (DESIGN.md, Configuration). */
import { z } from 'zod'
import { DuplicateUserError } from '#layers/owlat-system/server/utils/store/types'

const adminEnvSchema = z.object({
  OWLAT_ADMIN_EMAIL: z.email('OWLAT_ADMIN_EMAIL must be an email address').transform(e => e.toLowerCase()),
  OWLAT_ADMIN_PASSWORD: z.string().min(8, 'OWLAT_ADMIN_PASSWORD must be at least 8 characters'),
})

let seeding: Promise<void> | undefined

async function seed(): Promise<void> {
  const env = process.env
  if (!env.OWLAT_ADMIN_EMAIL || !env.OWLAT_ADMIN_PASSWORD) return
  const parsed = adminEnvSchema.safeParse(env)
  if (!parsed.success) {
    console.error(`[auth] not creating the first admin: ${parsed.error.issues.map(i => i.message).join('; ')}`)
    return
  }
  const store = useStore()
  const email = parsed.data.OWLAT_ADMIN_EMAIL
  // Only ever creates: an existing user (even with another role or password) is left alone.
  if (await store.getUserByEmail(email)) return
  try {
    await store.createUser({ email, role: 'platform-admin', passwordHash: await hashPassword(parsed.data.OWLAT_ADMIN_PASSWORD) })
    console.info(`[auth] created platform admin ${email}`)
  }
  catch (err) {
    // A second web process on the same store may have won the race.
    if (!(err instanceof DuplicateUserError)) throw err
  }
}

/**
 * Runs once per process once it succeeds; sign-in awaits it so the first login after start cannot
 * race the seed. A failure (e.g. the store was unreachable at start) is retried on the next call.
 */
export function seedAdminFromEnv(): Promise<void> {
  seeding ??= seed().catch((err: unknown) => {
    seeding = undefined
    console.error(`[auth] seeding the first admin failed (retried at the next sign-in): ${err instanceof Error ? err.message : String(err)}`)
  })
  return seeding
}
