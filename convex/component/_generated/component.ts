/* eslint-disable */
/**
 * Generated `ComponentApi` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type { FunctionReference } from "convex/server";

/**
 * A utility for referencing a Convex component's exposed API.
 *
 * Useful when expecting a parameter like `components.myComponent`.
 * Usage:
 * ```ts
 * async function myFunction(ctx: QueryCtx, component: ComponentApi) {
 *   return ctx.runQuery(component.someFile.someQuery, { ...args });
 * }
 * ```
 */
export type ComponentApi<Name extends string | undefined = string | undefined> =
  {
    acknowledgements: {
      acknowledge: FunctionReference<
        "mutation",
        "internal",
        { runId: string; userId: string; email: string },
        {
          runId: string;
          userId: string;
          email: string;
          acknowledgedAt: number;
        },
        Name
      >;
      get: FunctionReference<
        "query",
        "internal",
        { runId: string },
        {
          runId: string;
          userId: string;
          email: string;
          acknowledgedAt: number;
        } | null,
        Name
      >;
    };
    audit: {
      list: FunctionReference<
        "query",
        "internal",
        { limit: number },
        Array<{
          action:
            | "run.opened"
            | "run.adopted"
            | "run.closed"
            | "settings.changed"
            | "release.dismissed"
            | "run.acknowledged"
            | "checks.ignored"
            | "release.imported";
          actor: string | null;
          runId: string | null;
          detail: string;
          at: number;
        }>,
        Name
      >;
      listForRun: FunctionReference<
        "query",
        "internal",
        { runId: string },
        Array<{
          action:
            | "run.opened"
            | "run.adopted"
            | "run.closed"
            | "settings.changed"
            | "release.dismissed"
            | "run.acknowledged"
            | "checks.ignored"
            | "release.imported";
          actor: string | null;
          runId: string | null;
          detail: string;
          at: number;
        }>,
        Name
      >;
    };
    dismissals: {
      dismiss: FunctionReference<
        "mutation",
        "internal",
        { userId: string; email: string; version: string },
        null,
        Name
      >;
      isDismissed: FunctionReference<
        "query",
        "internal",
        { userId: string; version: string },
        boolean,
        Name
      >;
    };
    outbox: {
      deliveriesOf: FunctionReference<
        "query",
        "internal",
        { notificationId: string },
        Array<{
          id: string;
          notificationId: string;
          target: string;
          notification: string;
          attempts: number;
          nextAttemptAt: number;
          createdAt: number;
          deliveredAt: number | null;
          gaveUpAt: number | null;
          lastError: string | null;
        }>,
        Name
      >;
      due: FunctionReference<
        "mutation",
        "internal",
        { now: number; limit: number; claimUntil: number },
        Array<{
          id: string;
          notificationId: string;
          target: string;
          notification: string;
          attempts: number;
          nextAttemptAt: number;
          createdAt: number;
          deliveredAt: number | null;
          gaveUpAt: number | null;
          lastError: string | null;
        }>,
        Name
      >;
      enqueue: FunctionReference<
        "mutation",
        "internal",
        {
          notificationId: string;
          target: string;
          notification: string;
          createdAt: number;
          nextAttemptAt: number;
        },
        boolean,
        Name
      >;
      markDelivered: FunctionReference<
        "mutation",
        "internal",
        { id: string; at: number },
        null,
        Name
      >;
      markFailed: FunctionReference<
        "mutation",
        "internal",
        { id: string; nextAttemptAt: number | null; error: string; at: number },
        null,
        Name
      >;
    };
    releases: {
      claimCheck: FunctionReference<
        "mutation",
        "internal",
        { now: number; nextAt: number },
        boolean,
        Name
      >;
      getCache: FunctionReference<
        "query",
        "internal",
        {},
        {
          releases: Array<{
            version: string;
            channel: "stable" | "beta";
            publishedAt: string;
            severity: "normal" | "security";
            notes: string;
            notesHtml: string;
            migratesData: boolean;
            rollbackFloor: string | null;
            minimumFrom?: string | null;
            verified: boolean;
            verifyError: string | null;
            manifestSha256?: string;
          }>;
          checkedAt: number | null;
          error: string | null;
        },
        Name
      >;
      getCheckState: FunctionReference<
        "query",
        "internal",
        {},
        {
          nextCheckAt: number | null;
          retryAt: number | null;
          etag: string | null;
          fingerprints: Array<{ version: string; fingerprint: string }>;
        },
        Name
      >;
      getTrust: FunctionReference<
        "query",
        "internal",
        {},
        {
          highestSerial: number | null;
          highestVersion: string | null;
          indexText: string | null;
          indexSignature: string | null;
          learnedKeys: Array<string>;
          retiredKeys: Array<string>;
          rollbackRefusal: {
            at: number;
            serial: number;
            highestSerial: number;
            where: string;
          } | null;
        },
        Name
      >;
      recordImport: FunctionReference<
        "mutation",
        "internal",
        {
          email: string;
          version: string;
          images: number;
          indexExpired: boolean;
        },
        null,
        Name
      >;
      saveCache: FunctionReference<
        "mutation",
        "internal",
        {
          releases: Array<{
            version: string;
            channel: "stable" | "beta";
            publishedAt: string;
            severity: "normal" | "security";
            notes: string;
            notesHtml: string;
            migratesData: boolean;
            rollbackFloor: string | null;
            minimumFrom?: string | null;
            verified: boolean;
            verifyError: string | null;
            manifestSha256?: string;
          }>;
          checkedAt: number | null;
          error: string | null;
        },
        null,
        Name
      >;
      saveCheckState: FunctionReference<
        "mutation",
        "internal",
        {
          retryAt?: number | null;
          etag?: string | null;
          fingerprints?: Array<{ version: string; fingerprint: string }>;
        },
        null,
        Name
      >;
      saveTrust: FunctionReference<
        "mutation",
        "internal",
        {
          patch: {
            highestSerial?: number | null;
            highestVersion?: string | null;
            indexText?: string | null;
            indexSignature?: string | null;
            learnedKeys?: Array<string>;
            retiredKeys?: Array<string>;
            rollbackRefusal?: {
              at: number;
              serial: number;
              highestSerial: number;
              where: string;
            } | null;
          };
        },
        boolean,
        Name
      >;
    };
    runs: {
      adoptJob: FunctionReference<
        "mutation",
        "internal",
        {
          job: {
            id: string;
            kind: "update" | "rollback" | "restore" | "rehearsal";
            fromVersion: string;
            toVersion: string;
            path?: Array<string> | null;
            status:
              "queued" | "running" | "succeeded" | "rolled_back" | "failed";
            reason: string | null;
            requestedBy: {
              email: string | null;
              via: "web" | "cli" | "system" | "schedule";
            };
            endedAt: number | null;
            steps: Array<{
              name:
                | "preflight"
                | "backup"
                | "stage"
                | "pull"
                | "deploy-functions"
                | "promote"
                | "recreate"
                | "verify"
                | "watch"
                | "commit"
                | "restore"
                | "verify-restore"
                | "teardown";
              status:
                "pending" | "running" | "succeeded" | "failed" | "skipped";
              startedAt: number | null;
              endedAt: number | null;
              log: Array<string>;
              error: string | null;
              hop?: number;
            }>;
            override?: { reason: string; checks: Array<string> } | null;
            runId: string | null;
            createdAt: number;
            startedAt: number | null;
            backup?: {
              path: string;
              createdAt: number;
              sizeBytes: number;
            } | null;
          };
        },
        {
          id: string;
          kind: "update" | "rollback" | "restore" | "rehearsal";
          fromVersion: string;
          toVersion: string;
          path?: Array<string> | null;
          status: "queued" | "running" | "succeeded" | "rolled_back" | "failed";
          reason: string | null;
          requestedBy: {
            email: string | null;
            via: "web" | "cli" | "system" | "schedule";
          };
          endedAt: number | null;
          steps: Array<{
            name:
              | "preflight"
              | "backup"
              | "stage"
              | "pull"
              | "deploy-functions"
              | "promote"
              | "recreate"
              | "verify"
              | "watch"
              | "commit"
              | "restore"
              | "verify-restore"
              | "teardown";
            status: "pending" | "running" | "succeeded" | "failed" | "skipped";
            startedAt: number | null;
            endedAt: number | null;
            log: Array<string>;
            error: string | null;
            hop?: number;
          }>;
          override?: { reason: string; checks: Array<string> } | null;
          jobId: string | null;
          startedAt: number;
          plan?: {
            kind: "update" | "rollback" | "rehearsal";
            fromVersion: string;
            targetVersion: string;
            path: Array<string>;
            checks: Array<{
              id: string;
              status: "ok" | "warn" | "fail";
              message: string;
              fix: string | null;
              ignorable: boolean;
            }>;
            images: Array<{
              service: string;
              from: string | null;
              to: string | null;
            }>;
            composeDiff: string;
            migratesData: boolean;
            rollbackFloor: string | null;
            migrations: Array<{
              version: string;
              migratesData: boolean;
              rollbackFloor: string | null;
            }>;
          } | null;
        },
        Name
      >;
      attachJob: FunctionReference<
        "mutation",
        "internal",
        { runId: string; jobId: string },
        {
          id: string;
          kind: "update" | "rollback" | "restore" | "rehearsal";
          fromVersion: string;
          toVersion: string;
          path?: Array<string> | null;
          status: "queued" | "running" | "succeeded" | "rolled_back" | "failed";
          reason: string | null;
          requestedBy: {
            email: string | null;
            via: "web" | "cli" | "system" | "schedule";
          };
          endedAt: number | null;
          steps: Array<{
            name:
              | "preflight"
              | "backup"
              | "stage"
              | "pull"
              | "deploy-functions"
              | "promote"
              | "recreate"
              | "verify"
              | "watch"
              | "commit"
              | "restore"
              | "verify-restore"
              | "teardown";
            status: "pending" | "running" | "succeeded" | "failed" | "skipped";
            startedAt: number | null;
            endedAt: number | null;
            log: Array<string>;
            error: string | null;
            hop?: number;
          }>;
          override?: { reason: string; checks: Array<string> } | null;
          jobId: string | null;
          startedAt: number;
          plan?: {
            kind: "update" | "rollback" | "rehearsal";
            fromVersion: string;
            targetVersion: string;
            path: Array<string>;
            checks: Array<{
              id: string;
              status: "ok" | "warn" | "fail";
              message: string;
              fix: string | null;
              ignorable: boolean;
            }>;
            images: Array<{
              service: string;
              from: string | null;
              to: string | null;
            }>;
            composeDiff: string;
            migratesData: boolean;
            rollbackFloor: string | null;
            migrations: Array<{
              version: string;
              migratesData: boolean;
              rollbackFloor: string | null;
            }>;
          } | null;
        },
        Name
      >;
      get: FunctionReference<
        "query",
        "internal",
        { runId: string },
        {
          id: string;
          kind: "update" | "rollback" | "restore" | "rehearsal";
          fromVersion: string;
          toVersion: string;
          path?: Array<string> | null;
          status: "queued" | "running" | "succeeded" | "rolled_back" | "failed";
          reason: string | null;
          requestedBy: {
            email: string | null;
            via: "web" | "cli" | "system" | "schedule";
          };
          endedAt: number | null;
          steps: Array<{
            name:
              | "preflight"
              | "backup"
              | "stage"
              | "pull"
              | "deploy-functions"
              | "promote"
              | "recreate"
              | "verify"
              | "watch"
              | "commit"
              | "restore"
              | "verify-restore"
              | "teardown";
            status: "pending" | "running" | "succeeded" | "failed" | "skipped";
            startedAt: number | null;
            endedAt: number | null;
            log: Array<string>;
            error: string | null;
            hop?: number;
          }>;
          override?: { reason: string; checks: Array<string> } | null;
          jobId: string | null;
          startedAt: number;
          plan?: {
            kind: "update" | "rollback" | "rehearsal";
            fromVersion: string;
            targetVersion: string;
            path: Array<string>;
            checks: Array<{
              id: string;
              status: "ok" | "warn" | "fail";
              message: string;
              fix: string | null;
              ignorable: boolean;
            }>;
            images: Array<{
              service: string;
              from: string | null;
              to: string | null;
            }>;
            composeDiff: string;
            migratesData: boolean;
            rollbackFloor: string | null;
            migrations: Array<{
              version: string;
              migratesData: boolean;
              rollbackFloor: string | null;
            }>;
          } | null;
        } | null,
        Name
      >;
      getActive: FunctionReference<
        "query",
        "internal",
        {},
        {
          id: string;
          kind: "update" | "rollback" | "restore" | "rehearsal";
          fromVersion: string;
          toVersion: string;
          path?: Array<string> | null;
          status: "queued" | "running" | "succeeded" | "rolled_back" | "failed";
          reason: string | null;
          requestedBy: {
            email: string | null;
            via: "web" | "cli" | "system" | "schedule";
          };
          endedAt: number | null;
          steps: Array<{
            name:
              | "preflight"
              | "backup"
              | "stage"
              | "pull"
              | "deploy-functions"
              | "promote"
              | "recreate"
              | "verify"
              | "watch"
              | "commit"
              | "restore"
              | "verify-restore"
              | "teardown";
            status: "pending" | "running" | "succeeded" | "failed" | "skipped";
            startedAt: number | null;
            endedAt: number | null;
            log: Array<string>;
            error: string | null;
            hop?: number;
          }>;
          override?: { reason: string; checks: Array<string> } | null;
          jobId: string | null;
          startedAt: number;
          plan?: {
            kind: "update" | "rollback" | "rehearsal";
            fromVersion: string;
            targetVersion: string;
            path: Array<string>;
            checks: Array<{
              id: string;
              status: "ok" | "warn" | "fail";
              message: string;
              fix: string | null;
              ignorable: boolean;
            }>;
            images: Array<{
              service: string;
              from: string | null;
              to: string | null;
            }>;
            composeDiff: string;
            migratesData: boolean;
            rollbackFloor: string | null;
            migrations: Array<{
              version: string;
              migratesData: boolean;
              rollbackFloor: string | null;
            }>;
          } | null;
        } | null,
        Name
      >;
      getByJobId: FunctionReference<
        "query",
        "internal",
        { jobId: string },
        {
          id: string;
          kind: "update" | "rollback" | "restore" | "rehearsal";
          fromVersion: string;
          toVersion: string;
          path?: Array<string> | null;
          status: "queued" | "running" | "succeeded" | "rolled_back" | "failed";
          reason: string | null;
          requestedBy: {
            email: string | null;
            via: "web" | "cli" | "system" | "schedule";
          };
          endedAt: number | null;
          steps: Array<{
            name:
              | "preflight"
              | "backup"
              | "stage"
              | "pull"
              | "deploy-functions"
              | "promote"
              | "recreate"
              | "verify"
              | "watch"
              | "commit"
              | "restore"
              | "verify-restore"
              | "teardown";
            status: "pending" | "running" | "succeeded" | "failed" | "skipped";
            startedAt: number | null;
            endedAt: number | null;
            log: Array<string>;
            error: string | null;
            hop?: number;
          }>;
          override?: { reason: string; checks: Array<string> } | null;
          jobId: string | null;
          startedAt: number;
          plan?: {
            kind: "update" | "rollback" | "rehearsal";
            fromVersion: string;
            targetVersion: string;
            path: Array<string>;
            checks: Array<{
              id: string;
              status: "ok" | "warn" | "fail";
              message: string;
              fix: string | null;
              ignorable: boolean;
            }>;
            images: Array<{
              service: string;
              from: string | null;
              to: string | null;
            }>;
            composeDiff: string;
            migratesData: boolean;
            rollbackFloor: string | null;
            migrations: Array<{
              version: string;
              migratesData: boolean;
              rollbackFloor: string | null;
            }>;
          } | null;
        } | null,
        Name
      >;
      list: FunctionReference<
        "query",
        "internal",
        { limit: number },
        Array<{
          id: string;
          kind: "update" | "rollback" | "restore" | "rehearsal";
          fromVersion: string;
          toVersion: string;
          path?: Array<string> | null;
          status: "queued" | "running" | "succeeded" | "rolled_back" | "failed";
          reason: string | null;
          requestedBy: {
            email: string | null;
            via: "web" | "cli" | "system" | "schedule";
          };
          endedAt: number | null;
          steps: Array<{
            name:
              | "preflight"
              | "backup"
              | "stage"
              | "pull"
              | "deploy-functions"
              | "promote"
              | "recreate"
              | "verify"
              | "watch"
              | "commit"
              | "restore"
              | "verify-restore"
              | "teardown";
            status: "pending" | "running" | "succeeded" | "failed" | "skipped";
            startedAt: number | null;
            endedAt: number | null;
            log: Array<string>;
            error: string | null;
            hop?: number;
          }>;
          override?: { reason: string; checks: Array<string> } | null;
          jobId: string | null;
          startedAt: number;
          plan?: {
            kind: "update" | "rollback" | "rehearsal";
            fromVersion: string;
            targetVersion: string;
            path: Array<string>;
            checks: Array<{
              id: string;
              status: "ok" | "warn" | "fail";
              message: string;
              fix: string | null;
              ignorable: boolean;
            }>;
            images: Array<{
              service: string;
              from: string | null;
              to: string | null;
            }>;
            composeDiff: string;
            migratesData: boolean;
            rollbackFloor: string | null;
            migrations: Array<{
              version: string;
              migratesData: boolean;
              rollbackFloor: string | null;
            }>;
          } | null;
        }>,
        Name
      >;
      open: FunctionReference<
        "mutation",
        "internal",
        {
          kind: "update" | "rollback" | "restore" | "rehearsal";
          fromVersion: string;
          toVersion: string;
          requestedBy: {
            email: string | null;
            via: "web" | "cli" | "system" | "schedule";
          };
          override?: { reason: string; checks: Array<string> } | null;
          path?: Array<string> | null;
          plan?: {
            kind: "update" | "rollback" | "rehearsal";
            fromVersion: string;
            targetVersion: string;
            path: Array<string>;
            checks: Array<{
              id: string;
              status: "ok" | "warn" | "fail";
              message: string;
              fix: string | null;
              ignorable: boolean;
            }>;
            images: Array<{
              service: string;
              from: string | null;
              to: string | null;
            }>;
            composeDiff: string;
            migratesData: boolean;
            rollbackFloor: string | null;
            migrations: Array<{
              version: string;
              migratesData: boolean;
              rollbackFloor: string | null;
            }>;
          } | null;
        },
        {
          id: string;
          kind: "update" | "rollback" | "restore" | "rehearsal";
          fromVersion: string;
          toVersion: string;
          path?: Array<string> | null;
          status: "queued" | "running" | "succeeded" | "rolled_back" | "failed";
          reason: string | null;
          requestedBy: {
            email: string | null;
            via: "web" | "cli" | "system" | "schedule";
          };
          endedAt: number | null;
          steps: Array<{
            name:
              | "preflight"
              | "backup"
              | "stage"
              | "pull"
              | "deploy-functions"
              | "promote"
              | "recreate"
              | "verify"
              | "watch"
              | "commit"
              | "restore"
              | "verify-restore"
              | "teardown";
            status: "pending" | "running" | "succeeded" | "failed" | "skipped";
            startedAt: number | null;
            endedAt: number | null;
            log: Array<string>;
            error: string | null;
            hop?: number;
          }>;
          override?: { reason: string; checks: Array<string> } | null;
          jobId: string | null;
          startedAt: number;
          plan?: {
            kind: "update" | "rollback" | "rehearsal";
            fromVersion: string;
            targetVersion: string;
            path: Array<string>;
            checks: Array<{
              id: string;
              status: "ok" | "warn" | "fail";
              message: string;
              fix: string | null;
              ignorable: boolean;
            }>;
            images: Array<{
              service: string;
              from: string | null;
              to: string | null;
            }>;
            composeDiff: string;
            migratesData: boolean;
            rollbackFloor: string | null;
            migrations: Array<{
              version: string;
              migratesData: boolean;
              rollbackFloor: string | null;
            }>;
          } | null;
        },
        Name
      >;
      update: FunctionReference<
        "mutation",
        "internal",
        {
          runId: string;
          patch: {
            status?:
              "queued" | "running" | "succeeded" | "rolled_back" | "failed";
            steps?: Array<{
              name:
                | "preflight"
                | "backup"
                | "stage"
                | "pull"
                | "deploy-functions"
                | "promote"
                | "recreate"
                | "verify"
                | "watch"
                | "commit"
                | "restore"
                | "verify-restore"
                | "teardown";
              status:
                "pending" | "running" | "succeeded" | "failed" | "skipped";
              startedAt: number | null;
              endedAt: number | null;
              log: Array<string>;
              error: string | null;
              hop?: number;
            }>;
            reason?: string | null;
            endedAt?: number | null;
          };
        },
        {
          id: string;
          kind: "update" | "rollback" | "restore" | "rehearsal";
          fromVersion: string;
          toVersion: string;
          path?: Array<string> | null;
          status: "queued" | "running" | "succeeded" | "rolled_back" | "failed";
          reason: string | null;
          requestedBy: {
            email: string | null;
            via: "web" | "cli" | "system" | "schedule";
          };
          endedAt: number | null;
          steps: Array<{
            name:
              | "preflight"
              | "backup"
              | "stage"
              | "pull"
              | "deploy-functions"
              | "promote"
              | "recreate"
              | "verify"
              | "watch"
              | "commit"
              | "restore"
              | "verify-restore"
              | "teardown";
            status: "pending" | "running" | "succeeded" | "failed" | "skipped";
            startedAt: number | null;
            endedAt: number | null;
            log: Array<string>;
            error: string | null;
            hop?: number;
          }>;
          override?: { reason: string; checks: Array<string> } | null;
          jobId: string | null;
          startedAt: number;
          plan?: {
            kind: "update" | "rollback" | "rehearsal";
            fromVersion: string;
            targetVersion: string;
            path: Array<string>;
            checks: Array<{
              id: string;
              status: "ok" | "warn" | "fail";
              message: string;
              fix: string | null;
              ignorable: boolean;
            }>;
            images: Array<{
              service: string;
              from: string | null;
              to: string | null;
            }>;
            composeDiff: string;
            migratesData: boolean;
            rollbackFloor: string | null;
            migrations: Array<{
              version: string;
              migratesData: boolean;
              rollbackFloor: string | null;
            }>;
          } | null;
        },
        Name
      >;
    };
    schedule: {
      claim: FunctionReference<
        "mutation",
        "internal",
        { now: number; nextAt: number },
        boolean,
        Name
      >;
    };
    settings: {
      get: FunctionReference<
        "query",
        "internal",
        {},
        {
          channel: "stable" | "beta";
          autoUpdate?: "off" | "security" | "patch" | "minor";
          maintenanceWindow?: {
            days: Array<"mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun">;
            start: string;
            durationMinutes: number;
            timeZone: string;
          } | null;
          securityOutsideWindow?: boolean;
          pausedUntil?: number | null;
          pausedBy?: string | null;
        },
        Name
      >;
      update: FunctionReference<
        "mutation",
        "internal",
        {
          channel?: "stable" | "beta";
          autoUpdate?: "off" | "security" | "patch" | "minor";
          maintenanceWindow?: {
            days: Array<"mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun">;
            start: string;
            durationMinutes: number;
            timeZone: string;
          } | null;
          securityOutsideWindow?: boolean;
          pausedUntil?: number | null;
          pausedBy?: string | null;
          actor: string | null;
        },
        {
          channel: "stable" | "beta";
          autoUpdate?: "off" | "security" | "patch" | "minor";
          maintenanceWindow?: {
            days: Array<"mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun">;
            start: string;
            durationMinutes: number;
            timeZone: string;
          } | null;
          securityOutsideWindow?: boolean;
          pausedUntil?: number | null;
          pausedBy?: string | null;
        },
        Name
      >;
    };
    users: {
      create: FunctionReference<
        "mutation",
        "internal",
        {
          email: string;
          role: "platform-admin" | "member";
          passwordHash: string;
        },
        {
          id: string;
          email: string;
          role: "platform-admin" | "member";
          passwordHash: string;
          createdAt: number;
          sessionVersion?: number;
          notifications?: "all" | "security" | "none";
        },
        Name
      >;
      getByEmail: FunctionReference<
        "query",
        "internal",
        { email: string },
        {
          id: string;
          email: string;
          role: "platform-admin" | "member";
          passwordHash: string;
          createdAt: number;
          sessionVersion?: number;
          notifications?: "all" | "security" | "none";
        } | null,
        Name
      >;
      getById: FunctionReference<
        "query",
        "internal",
        { id: string },
        {
          id: string;
          email: string;
          role: "platform-admin" | "member";
          passwordHash: string;
          createdAt: number;
          sessionVersion?: number;
          notifications?: "all" | "security" | "none";
        } | null,
        Name
      >;
      list: FunctionReference<
        "query",
        "internal",
        {},
        Array<{
          id: string;
          email: string;
          role: "platform-admin" | "member";
          passwordHash: string;
          createdAt: number;
          sessionVersion?: number;
          notifications?: "all" | "security" | "none";
        }>,
        Name
      >;
      revokeSessions: FunctionReference<
        "mutation",
        "internal",
        { id: string },
        {
          id: string;
          email: string;
          role: "platform-admin" | "member";
          passwordHash: string;
          createdAt: number;
          sessionVersion?: number;
          notifications?: "all" | "security" | "none";
        } | null,
        Name
      >;
      setNotifications: FunctionReference<
        "mutation",
        "internal",
        { id: string; notifications: "all" | "security" | "none" },
        {
          id: string;
          email: string;
          role: "platform-admin" | "member";
          passwordHash: string;
          createdAt: number;
          sessionVersion?: number;
          notifications?: "all" | "security" | "none";
        },
        Name
      >;
      update: FunctionReference<
        "mutation",
        "internal",
        {
          id: string;
          patch: { role?: "platform-admin" | "member"; passwordHash?: string };
        },
        {
          id: string;
          email: string;
          role: "platform-admin" | "member";
          passwordHash: string;
          createdAt: number;
          sessionVersion?: number;
          notifications?: "all" | "security" | "none";
        },
        Name
      >;
    };
  };
