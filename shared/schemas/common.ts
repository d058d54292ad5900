import { z } from 'zod'
import { isVersion } from '../version'
import { ALL_STEPS, STEP_STATUSES } from '../steps'
import { RUN_KINDS, RUN_STATUSES } from '../run-state'

/** A strict semver version such as `1.3.0` or `1.4.0-beta.1` (no `v`, no ranges). */
export const versionSchema = z
  .string()
  .trim()
  .min(1, 'version is required')
  .max(64, 'version is too long')
  .refine(isVersion, { message: 'must be a semantic version such as 1.3.0' })

/** The most hops one run takes (required upgrade stops and the target). */
export const MAX_HOPS = 20

export const channelSchema = z.enum(['stable', 'beta'])
/**
 * The sidecar drivers there are, by the name OWLAT_DRIVER and `GET /v1/health` use. Each is
 * registered under its name in `sidecar/drivers/registry.ts`, which must cover this list.
 */
export const DRIVER_NAMES = ['local', 'compose', 'swarm'] as const
export const driverNameSchema = z.enum(DRIVER_NAMES)
export type DriverName = z.infer<typeof driverNameSchema>
export const severitySchema = z.enum(['normal', 'security'])
export const runStatusSchema = z.enum(RUN_STATUSES)
export const runKindSchema = z.enum(RUN_KINDS)
export const stepNameSchema = z.enum(ALL_STEPS)
export const stepStatusSchema = z.enum(STEP_STATUSES)

/** Who asked for a run, and from where; `schedule`: the automatic update scheduler (no email). */
export const requestedBySchema = z.object({
  email: z.string().max(320).nullable(),
  via: z.enum(['web', 'cli', 'system', 'schedule']),
})
export type RequestedBy = z.infer<typeof requestedBySchema>

export const stepSchema = z.object({
  name: stepNameSchema,
  status: stepStatusSchema,
  startedAt: z.number().nullable(),
  endedAt: z.number().nullable(),
  log: z.array(z.string()),
  error: z.string().nullable(),
  /**
   * The hop of a run of several hops (required upgrade stops) this step belongs to: its index in
   * the run's `path`. Absent in a run of one hop, and in records from before hops.
   */
  hop: z.number().int().min(0).max(MAX_HOPS - 1).optional(),
})
export type Step = z.infer<typeof stepSchema>

/**
 * Why a rehearsal takes no override of failing checks: a rehearsal that cannot run as the update
 * would tells nothing. The web, the CLI and the updater's admission all hold to it.
 */
export const REHEARSAL_OVERRIDE_REFUSED = 'a rehearsal takes no override of failing checks (one that cannot run as the update would tells nothing): fix them, then rehearse again'

/**
 * An admin's override of the plan's failing checks (`ignoreChecks` with a reason): recorded in
 * the run, the history and the audit trail.
 */
export const checkOverrideSchema = z.object({
  reason: z.string().trim().min(1, 'give a reason for ignoring the failing checks').max(1000),
  /** The ids of the checks that failed when the run was asked for. */
  checks: z.array(z.string().max(100)).max(50),
})
export type CheckOverride = z.infer<typeof checkOverrideSchema>

/** What a web run and a sidecar job both say about one update or rollback. */
export const runCoreSchema = z.object({
  id: z.string(),
  kind: runKindSchema,
  fromVersion: z.string(),
  toVersion: z.string(),
  /**
   * A run through required upgrade stops: the versions it installs, one hop each, in order,
   * ending with `toVersion` (shared/upgrade-path.ts). Absent (or one version) for a run of one hop.
   */
  path: z.array(z.string()).max(MAX_HOPS).nullable().optional(),
  status: runStatusSchema,
  reason: z.string().nullable(),
  requestedBy: requestedBySchema,
  endedAt: z.number().nullable(),
  steps: z.array(stepSchema),
  /** Failing checks an admin chose to ignore, with the reason; absent or null when none was. */
  override: checkOverrideSchema.nullable().optional(),
})
