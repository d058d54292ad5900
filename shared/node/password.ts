/**
 * Password hashes as the standalone app's sign-in verifies them: nuxt-auth-utils hashes with
 * @adonisjs/hash, Scrypt driver, default options. Used outside the web (user creation, the CLI's
 * password reset) so a hash made there verifies at sign-in. Node only.
 */
import { Hash } from '@adonisjs/hash'
import { Scrypt } from '@adonisjs/hash/drivers/scrypt'

const hash = new Hash(new Scrypt({}))

export function hashPassword(password: string): Promise<string> {
  return hash.make(password)
}

export function verifyPassword(hashed: string, password: string): Promise<boolean> {
  return hash.verify(hashed, password)
}
