/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as acknowledgements from "../acknowledgements.js";
import type * as audit from "../audit.js";
import type * as dismissals from "../dismissals.js";
import type * as model from "../model.js";
import type * as releases from "../releases.js";
import type * as runs from "../runs.js";
import type * as settings from "../settings.js";
import type * as users from "../users.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  acknowledgements: typeof acknowledgements;
  audit: typeof audit;
  dismissals: typeof dismissals;
  model: typeof model;
  releases: typeof releases;
  runs: typeof runs;
  settings: typeof settings;
  users: typeof users;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
