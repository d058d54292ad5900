/**
 * `owlat admin reset-password EMAIL [--password-stdin]`: a new password for a user of the
 * standalone app's own sign-in, written straight into the web's store (the SQLite file in
 * OWLAT_DATA_DIR, or Convex with OWLAT_CONVEX_URL and OWLAT_CONVEX_ADMIN_KEY), so it works while
 * the web is down too. A host app with its own sign-in keeps its users itself: this does not apply.
 */
import { randomBytes } from 'node:crypto'
import { text } from 'node:stream/consumers'
import { defineCommand, type ArgsDef } from 'citty'
import { z } from 'zod'
import { hashPassword } from '../../shared/node/password'
import { openCliWebStore } from '../web-store'
import { validateArgs } from '../args'
import { CliError } from '../errors'
import { printLine } from '../job-view'
import { bold } from '../style'

const MIN_PASSWORD = 8

const resetArgs = {
  'email': { type: 'positional', description: 'The user\'s email address', required: true },
  'password-stdin': { type: 'boolean', description: 'Read the new password from stdin instead of generating one' },
} satisfies ArgsDef

const resetSchema = z.object({
  'email': z.email('must be an email address').max(320).transform(e => e.toLowerCase()),
  'password-stdin': z.boolean().default(false),
})

async function newPassword(fromStdin: boolean): Promise<{ password: string, generated: boolean }> {
  if (!fromStdin) return { password: randomBytes(18).toString('base64url'), generated: true }
  if (process.stdin.isTTY) throw new CliError('--password-stdin reads a pipe: echo "$PASSWORD" | owlat admin reset-password EMAIL --password-stdin', 'usage')
  const password = (await text(process.stdin)).replace(/\r?\n$/, '')
  if (password.length < MIN_PASSWORD) throw new CliError(`the password from stdin is shorter than ${MIN_PASSWORD} characters: nothing was changed`, 'usage')
  return { password, generated: false }
}

const resetPasswordCommand = defineCommand({
  meta: { name: 'reset-password', description: 'Give a user of the standalone app\'s sign-in a new password' },
  args: resetArgs,
  async run(ctx) {
    const args = validateArgs(ctx, resetArgs, resetSchema)
    const { store, where } = openCliWebStore()
    try {
      const user = await store.getUserByEmail(args.email)
      if (!user) {
        throw new CliError(`no user ${args.email} in the web's store (${where}); an app with its own sign-in keeps its users itself: reset the password there`)
      }
      const { password, generated } = await newPassword(args['password-stdin'])
      // A new password ends every session of the user (the store raises its session version).
      const updated = await store.updateUser(user.id, { passwordHash: await hashPassword(password) })
      printLine(`Password of ${updated.email} (${updated.role}) reset in ${where}.`)
      if (generated) printLine(`New password (shown once): ${bold(password)}`)
      printLine('Sign in with it now; every session signed in with the old password has ended.')
    }
    catch (err) {
      if (err instanceof CliError) throw err
      throw new CliError(`cannot reset the password in ${where}: ${(err as Error).message}`)
    }
    finally {
      await store.close()
    }
  },
})

export const adminCommand = defineCommand({
  meta: { name: 'admin', description: 'Administer the standalone app\'s sign-in (reset-password)' },
  subCommands: { 'reset-password': resetPasswordCommand },
})
