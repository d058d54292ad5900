/**
 * What the runner needs from a way of running the stack. The `local` driver supervises the web
 * as a child process (embedded defaults, tests); the `compose` driver does the same steps with
 * `docker compose` and the Docker Engine API. Drivers register by name in `registry.ts`. The
 * runner owns ordering, journaling and the restore decision; a driver only performs one step at
 * a time, throws a readable Error when it fails, and calls `ctx.skip(reason)` when the step does
 * not apply to it. What only some drivers can do, each declares in `capabilities`; every driver
 * passes the contract suite in tests/drivers/.
 */
import type { Check } from '../../shared/node/checks/types'
import type { RunKind } from '../../shared/run-state'
import type { DriverName } from '../../shared/schemas/common'
import type { BackupArchive, BackupReason } from '../../shared/schemas/backup'
import type { DriverBackups, HostFacts, JobBackup, ServiceHealth } from '../../shared/schemas/job'
import type { ServiceLogEntry } from '../../shared/service-output'

export type { DriverName }

/** What a driver can do beyond the steps every driver runs. */
export interface DriverCapabilities {
  /** Whether the backup step backs up the data, and why not when it cannot (the page says so). */
  backups: DriverBackups
  /** Whether a rollback can put back the data backup of the update it undoes (`restoreBackupJobId`). */
  dataRestore: boolean
  /** Whether `selfUpdate` moves the updater itself to the image a committed release pins. */
  selfUpdate: boolean
  /** Whether it runs the release's container images, so an offline bundle's images are loaded (`loadImages`). */
  images: boolean
  /** Whether it can rehearse a release on a copy of the data, and why not when it cannot (admission refuses a rehearsal with it). */
  rehearsals: DriverBackups
}

/** Everything a step needs about the job it belongs to. */
export interface StepContext {
  jobId: string
  kind: RunKind
  /** The hop's versions: a run through required upgrade stops takes one hop per version, each from the one before. */
  fromVersion: string
  toVersion: string
  /** Which hop of the job this step belongs to (0 in a job of one hop). */
  hop: number
  /** The verified compose text of the release this hop installs. */
  compose: string
  /** Proceed even when the stack is unhealthy before the update. */
  force: boolean
  /** Whether the admin asked for a data backup before anything changes. */
  backup: boolean
  /**
   * A rollback that puts back the data backup this earlier job took (the data as it was on the
   * target version), or null. Admission checked the job exists and took a backup.
   */
  restoreBackupJobId: string | null
  /** A restore job (kind `restore`): the archive in the backups folder it puts back. */
  restoreArchive: string | null
  /** Records the backup the backup step took, so history can offer it to a later rollback. */
  recordBackup: (backup: JobBackup) => void
  /** Aborted when the sidecar shuts down: long waits must stop early (the journal resumes later). */
  signal: AbortSignal
  /** One meaningful line for the step's log (what was done, to what, pid, version). */
  log: (line: string) => void
  /** Marks the step as having nothing to do with this driver; the reason goes to its log. */
  skip: (reason: string) => void
}

/**
 * One look at the whole stack during the watch window: every service running and healthy, and
 * the web answering the version. `detail` says what was seen, in one line (the failing service
 * first when it failed).
 */
export interface WatchSample {
  ok: boolean
  detail: string
}

export interface Driver {
  readonly name: DriverName
  readonly capabilities: DriverCapabilities
  /** The folder compose files are deployed in: relative bind mounts resolve against it (compose policy). */
  readonly projectDir: string

  /** Brings the installed stack up (clearing anything a crashed sidecar left behind). */
  start(): Promise<void>
  /** Stops what `start` brought up; the stack stays installed. */
  stop(): Promise<void>
  /** Version of the web image in the current compose file. */
  installedVersion(): string
  health(): Promise<ServiceHealth[]>
  /** Newest lines a service wrote (for `owlat logs`), each with its time and the version that wrote it. */
  serviceLogs(service: string, tail: number): ServiceLogEntry[] | Promise<ServiceLogEntry[]>
  /** What the plan's checks read of the host: engine and compose versions, free disk and what an update needs there. */
  hostFacts?(): Promise<Omit<HostFacts, 'updater'>>
  /**
   * The stack checks (shared/node/checks) on `compose` as this driver would run it (the plan's
   * view of a release), or on the installed stack without one (the bug-report bundle).
   */
  checks?(signal?: AbortSignal, compose?: string): Promise<Check[]>
  /** Values the bundle must mask beyond the instance secret: the stack's own secrets. */
  secretEnvironments?(): Array<Record<string, string | undefined>>

  /**
   * Backup archives (`owlat backup`, `owlat restore FILE`), for drivers whose capabilities
   * include backups. A restore is a job of kind `restore`: its steps run through the same
   * methods as an update's, each doing the restore's part.
   */
  archives?: DriverArchives

  /**
   * A rehearsal (kind `rehearsal`): the target on a throwaway copy of the data, in isolation.
   * None of its methods may stop, recreate or connect to what production runs.
   */
  rehearsal: DriverRehearsal

  preflight(ctx: StepContext): Promise<void>
  backup(ctx: StepContext): Promise<void>
  /** Writes the target compose file next to the current one, without touching what runs. */
  stage(ctx: StepContext): Promise<void>
  pull(ctx: StepContext): Promise<void>
  deployFunctions(ctx: StepContext): Promise<void>
  /** Makes the staged file current, keeping the previous one. Idempotent: a resumed job calls it again. */
  promote(ctx: StepContext): Promise<void>
  /** Restarts services from the current compose file. */
  recreate(ctx: StepContext): Promise<void>
  /**
   * Resolves once every service is healthy and the web answers `version`; throws on timeout,
   * after logging the failing service's last lines (`keepServiceOutput`).
   */
  verify(ctx: StepContext, version: string): Promise<void>
  /**
   * One sample for the watch window after `verify`: never waits for a service to become healthy;
   * what is not healthy at `version` now fails the sample (after logging the failing service's last
   * lines). The runner owns the window and the pace.
   */
  sample(ctx: StepContext, version: string): Promise<WatchSample>
  /** Puts the previous compose file back and recreates. Idempotent like `promote`. */
  restore(ctx: StepContext): Promise<void>
  /**
   * After a job committed (never during one), moves the updater to the image the current compose
   * file pins; says what it did. Called only when `capabilities.selfUpdate`.
   */
  selfUpdate(): Promise<string>
  /**
   * Loads an offline bundle's images (a `docker save` tar whose contents were verified) and
   * checks each pinned reference's image arrived with the expected ID. With `capabilities.images`.
   */
  loadImages?(tarPath: string, expected: ReadonlyArray<{ ref: string, imageId: string }>, log: (line: string) => void): Promise<void>
}

export interface DriverArchives {
  /** The folder the archives live in (`OWLAT_DIR/backups`). */
  readonly dir: string
  /** OWLAT_BACKUP_KEEP. */
  readonly keep: number
  /** Takes an archive now; prunes the oldest beyond `keep` afterwards. */
  create(opts: { reason: BackupReason, jobId: string | null, log: (line: string) => void }): Promise<{ backup: BackupArchive, pruned: string[] }>
  /** What a restore of `file` would install: refuses a file that is not a complete, unchanged archive of this stack. */
  inspect(file: string): Promise<{ archive: BackupArchive, compose: string }>
}

/**
 * The steps of a rehearsal that differ from an update's (`pull` is the update's: it only fetches).
 * Everything a rehearsal makes is named after its job id, so `teardown` finds it after a restart.
 */
export interface DriverRehearsal {
  /** The bytes a copy of the data takes (the plan's disk check, the preflight's refusal). */
  copyBytes(): Promise<number>
  /** Refuses up front, with the figures, a rehearsal that would not fit on the disk. */
  preflight(ctx: StepContext): Promise<void>
  /** The `backup` step: a fresh copy of the data, made for this rehearsal alone. */
  copy(ctx: StepContext): Promise<void>
  /** The `stage` step: the throwaway stack for `ctx.compose`, on the copy. */
  stage(ctx: StepContext): Promise<void>
  deployFunctions(ctx: StepContext): Promise<void>
  /** The `recreate` step: starts the hop's version on the copy. */
  start(ctx: StepContext): Promise<void>
  verify(ctx: StepContext, version: string): Promise<void>
  sample(ctx: StepContext, version: string): Promise<WatchSample>
  /** Removes everything the rehearsal made, copies included; idempotent, and safe on nothing. */
  teardown(ctx: StepContext): Promise<void>
  /** At start: removes what rehearsals of a sidecar that died left behind (except `keepJobIds`); says what it removed. */
  sweep(keepJobIds: readonly string[]): Promise<string[]>
}
