/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type * as acknowledgements from "../acknowledgements.js";
import type * as audit from "../audit.js";
import type * as dismissals from "../dismissals.js";
import type * as model from "../model.js";
import type * as outbox from "../outbox.js";
import type * as releases from "../releases.js";
import type * as runs from "../runs.js";
import type * as schedule from "../schedule.js";
import type * as settings from "../settings.js";
import type * as users from "../users.js";

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import { anyApi, componentsGeneric } from "convex/server";

const fullApi: ApiFromModules<{
  acknowledgements: typeof acknowledgements;
  audit: typeof audit;
  dismissals: typeof dismissals;
  model: typeof model;
  outbox: typeof outbox;
  releases: typeof releases;
  runs: typeof runs;
  schedule: typeof schedule;
  settings: typeof settings;
  users: typeof users;
}> = anyApi as any;

/**
 * A utility for referencing Convex functions in your app's public API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
export const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
> = anyApi as any;

/**
 * A utility for referencing Convex functions in your app's internal API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = internal.myModule.myFunction;
 * ```
 */
export const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
> = anyApi as any;

export const components = componentsGeneric() as unknown as {};
