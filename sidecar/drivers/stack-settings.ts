/**
 * The variables every container driver (compose, swarm) reads the same way, and how a driver's
 * settings are read: one schema per driver built on these, every bad variable named at once.
 */
import { z } from 'zod'
import { minFreeDiskMbSchema } from '../../shared/node/checks'

export const stackSettingsShape = {
  OWLAT_MIN_FREE_DISK_MB: minFreeDiskMbSchema,
  OWLAT_WEB_SERVICE: z.string().min(1).default('web'),
  OWLAT_UPDATER_SERVICE: z.string().min(1).default('updater'),
  OWLAT_WEB_VERSION_CHECK: z.enum(['http', 'exec']).default('http'),
  OWLAT_WEB_URL: z.url().default('http://web:3000'),
}

/** A driver's own variables (README documents each); throws naming every bad one. */
export function readSettings<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const parsed = schema.safeParse(env)
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map(i => `${String(i.path[0])}: ${i.message}`).join('; ')}`)
  }
  return parsed.data
}
