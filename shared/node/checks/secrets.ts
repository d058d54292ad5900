/** What makes a secret weak, and which keys hold secrets: one rule for doctor, checks and the bug-report bundle's masking. */

/** Secrets people leave in place from examples and tutorials. */
const PLACEHOLDER = /^(?:change[-_]?me.*|secret|password|passw0rd|owlat|example|default|admin|test|todo|x+|0+|1234.*|your[-_].*|<.*>|replace[-_]?me.*)$/i
/** Variable names whose values are secrets that must be strong. */
export const SECRET_KEY = /(?:SECRET|PASSWORD|TOKEN|API_KEY|ADMIN_KEY)$/
/** Variable names whose values a bug report masks: every secret above, and any key or credential. */
export const MASKED_KEY = /SECRET|PASSWORD|PASSWD|TOKEN|_KEY|KEYS$|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|DSN/i
export const MIN_SECRET_LENGTH = 32

/** Why a secret is weak, or null. */
export function secretWeakness(value: string): { level: 'warn' | 'fail', why: string } | null {
  const v = value.trim()
  if (v === '') return { level: 'fail', why: 'is empty' }
  if (PLACEHOLDER.test(v)) return { level: 'fail', why: 'is a placeholder' }
  if (new Set(v).size < 8) return { level: 'fail', why: 'is too repetitive to be random' }
  if (v.length < MIN_SECRET_LENGTH) return { level: 'warn', why: `is shorter than ${MIN_SECRET_LENGTH} characters` }
  return null
}
