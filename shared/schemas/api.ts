import { z } from 'zod'
import {
  channelSchema, requestedBySchema, runKindSchema, runStatusSchema, severitySchema, stepSchema, versionSchema,
} from './common'
import { releaseSchema } from './release'
import { serviceHealthSchema } from './job'

/** `POST /api/auth/login` */
export const loginBodySchema = z.object({
  email: z.email('enter a valid email address').max(320).transform(e => e.toLowerCase()),
  password: z.string().min(1, 'password is required').max(1024),
})

/** `POST /api/system/updates` and `POST /api/system/rollbacks` */
export const targetVersionBodySchema = z.object({ targetVersion: versionSchema }).strict()

/** `POST /api/system/notifications/dismiss` */
export const dismissBodySchema = z.object({ version: versionSchema }).strict()

/** `GET /api/system/updates/:id` params */
export const runIdParamsSchema = z.object({ id: z.string().min(1).max(100) })

export const userRoleSchema = z.enum(['platform-admin', 'member'])
export type UserRole = z.infer<typeof userRoleSchema>

export const sessionUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: userRoleSchema,
})
export type SessionUser = z.infer<typeof sessionUserSchema>

/** `GET /api/system/version` (unauthenticated: the page polls it while the web restarts). */
export const versionInfoSchema = z.object({ version: z.string(), buildId: z.string() })
export type VersionInfo = z.infer<typeof versionInfoSchema>

/** An update run as the web store keeps it. */
export const runSchema = z.object({
  id: z.string(),
  jobId: z.string().nullable(),
  kind: runKindSchema,
  fromVersion: z.string(),
  toVersion: z.string(),
  status: runStatusSchema,
  reason: z.string().nullable(),
  requestedBy: requestedBySchema,
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  steps: z.array(stepSchema),
})
export type Run = z.infer<typeof runSchema>

/** `GET /api/system/status`: one read for the page and the banner. */
export const statusSchema = z.object({
  currentVersion: z.string(),
  buildId: z.string(),
  channel: channelSchema,
  latest: releaseSchema.nullable(),
  updateAvailable: z.boolean(),
  severity: severitySchema.nullable(),
  dismissed: z.boolean(),
  activeRun: runSchema.nullable(),
  lastCheck: z.object({ checkedAt: z.number().nullable(), error: z.string().nullable() }),
})
export type SystemStatus = z.infer<typeof statusSchema>

export const historySchema = z.object({ runs: z.array(runSchema) })

/** `GET /api/system/health` */
export const healthResponseSchema = z.object({
  reachable: z.boolean(),
  driver: z.string().nullable(),
  version: z.string().nullable(),
  services: z.array(serviceHealthSchema),
  error: z.string().nullable(),
})
export type HealthResponse = z.infer<typeof healthResponseSchema>

/** `GET /api/system/settings` and the body of `PUT /api/system/settings` */
export const settingsSchema = z.object({ channel: channelSchema }).strict()
export type Settings = z.infer<typeof settingsSchema>

export const runAcceptedSchema = z.object({ runId: z.string() })
