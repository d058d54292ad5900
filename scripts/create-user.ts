/**
 * Adds a user to the web's embedded store:
 *   node --import tsx scripts/create-user.ts --email E --password P --role member|platform-admin
 * The data dir comes from OWLAT_DATA_DIR. Passwords are hashed exactly as nuxt-auth-utils hashes
 * them (@adonisjs/hash, Scrypt driver, default options) so the web's sign-in verifies them.
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { loadConfig } from '../shared/config'
import { hashPassword } from '../shared/node/password'
import { userRoleSchema } from '../shared/schemas/api'
import { openSqliteStore } from '../server/utils/store/sqlite'
import type { StoredUser } from '../server/utils/store/types'

const USAGE = 'usage: create-user --email E --password P --role member|platform-admin'

const argsSchema = z.object({
  email: z.email({ error: '--email must be an email address' }).max(320).transform(e => e.toLowerCase()),
  password: z.string({ error: '--password is required' }).min(8, '--password must be at least 8 characters').max(1024),
  role: z.enum(userRoleSchema.options, { error: '--role must be member or platform-admin' }),
})

function parseCreateUserArgs(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: { email: { type: 'string' }, password: { type: 'string' }, role: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  })
  const parsed = argsSchema.safeParse(values)
  if (!parsed.success) throw new Error(`${parsed.error.issues.map(i => i.message).join('; ')}\n${USAGE}`)
  return parsed.data
}

async function createUser(argv: string[], env: NodeJS.ProcessEnv): Promise<StoredUser> {
  const args = parseCreateUserArgs(argv)
  const store = openSqliteStore(join(loadConfig(env).dataDir, 'web.sqlite'))
  try {
    const passwordHash = await hashPassword(args.password)
    return await store.createUser({ email: args.email, role: args.role, passwordHash })
  }
  finally {
    await store.close()
  }
}

try {
  const user = await createUser(process.argv.slice(2), process.env)
  console.log(`created ${user.role} ${user.email} (${user.id})`)
}
catch (err) {
  console.error(`create-user: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
}
