/**
 * Writes `convex/_generated/` (api.d.ts, api.js, server.d.ts, server.js, dataModel.d.ts) byte for
 * byte as `npx convex codegen` of convex 1.48 writes them for this project (JavaScript output with
 * `.d.ts` types, formatted by the CLI's prettier pass). The CLI needs a running deployment, which
 * builds and tests do not have; these files only depend on the list of modules in `convex/`, so
 * this script derives them the way the CLI does (same module rules, identifiers, order).
 *
 *   npx tsx scripts/convex-codegen.ts           rewrite the files
 *   npx tsx scripts/convex-codegen.ts --check   exit 1 when a committed file is out of date
 *
 * tests/convex/generated.test.ts fails whenever the committed files differ from this output, and
 * compares this output with the convex package's own templates.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export const CONVEX_DIR = fileURLToPath(new URL('../convex', import.meta.url))

/** What the CLI bundles as a function module (`entryPoints` in convex/src/bundler/index.ts). */
const ENTRY_POINT_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.tsx', '.mts', '.cts', '.jsx']

/** Module paths relative to `dir`, forward slashes, sorted as the CLI sorts them. */
export function convexModulePaths(dir: string = CONVEX_DIR): string[] {
  const found: string[] = []
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true }).sort((a, b) => compare(a.name, b.name))) {
      const path = join(current, entry.name)
      if (entry.isDirectory()) {
        // A nested component is deployed on its own, never as part of this app.
        if (!existsSync(join(path, 'convex.config.ts'))) walk(path)
        continue
      }
      if (!entry.isFile()) continue
      const rel = relative(dir, path).split(sep).join('/')
      const base = entry.name
      const isModule = ENTRY_POINT_EXTENSIONS.some(ext => rel.endsWith(ext))
        && !rel.startsWith('_generated/')
        && !base.startsWith('.')
        && !base.startsWith('#')
        && base !== 'schema.ts' && base !== 'schema.js'
        // `*.test.ts`, `*.d.ts`, `convex.config.ts` and the like are never modules.
        && (base.match(/\./g) ?? []).length <= 1
        && !rel.includes(' ')
      if (!isModule) continue
      // TypeScript files without an import or export are not modules to the CLI either.
      if ((rel.endsWith('.ts') || rel.endsWith('.tsx')) && !/^\s{0,100}(import|export)/m.test(readFileSync(path, 'utf8'))) continue
      found.push(rel)
    }
  }
  walk(dir)
  return found.sort(compare)
}

/** Plain code-unit order, as `compareModulePaths` in the CLI. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function importPath(modulePath: string): string {
  const dot = modulePath.lastIndexOf('.')
  return dot === -1 ? modulePath : modulePath.slice(0, dot)
}

const RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'export',
  'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null', 'return',
  'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'let', 'static',
  'yield', 'await', 'enum', 'implements', 'interface', 'package', 'private', 'protected', 'public',
])

/** The identifier the module is imported as (`moduleIdentifier` in the CLI's api template). */
function moduleIdentifier(modulePath: string): string {
  let id = importPath(modulePath).replace(/\//g, '_').replace(/-/g, '_')
  if (['fullApi', 'api', 'internal', 'components'].includes(id)) id = `${id}_`
  if (RESERVED.has(id)) id = `${id}_`
  return id
}

/** prettier quotes a type member's key only where it is not an identifier. */
function propertyKey(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : `"${name}"`
}

function header(description: string): string {
  return `/* eslint-disable */
/**
 * ${description}
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run \`npx convex dev\`.
 * @module
 */
`
}

/** `api.d.ts` for these module paths (relative to `convex/`). */
export function renderApiDts(modulePaths: string[]): string {
  const imports = modulePaths.map(p => `import type * as ${moduleIdentifier(p)} from "../${importPath(p)}.js";\n`).join('')
  const members = modulePaths.map(p => `  ${propertyKey(importPath(p))}: typeof ${moduleIdentifier(p)};\n`).join('')
  return `${header('Generated `api` utility.')}
import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
${imports}
/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * \`\`\`js
 * const myFunctionReference = api.myModule.myFunction;
 * \`\`\`
 */
declare const fullApi: ApiFromModules<{${members ? `\n${members}` : ''}}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
`
}

export const SERVER_DTS = `/* eslint-disable */
/**
 * Generated utilities for implementing server-side Convex query and mutation functions.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run \`npx convex dev\`.
 * @module
 */

import {
  ActionBuilder,
  HttpActionBuilder,
  MutationBuilder,
  QueryBuilder,
  GenericActionCtx,
  GenericMutationCtx,
  GenericQueryCtx,
  GenericDatabaseReader,
  GenericDatabaseWriter,
} from "convex/server";
import type { DataModel } from "./dataModel.js";

/**
 * Define a query in this Convex app's public API.
 *
 * This function will be allowed to read your Convex database and will be accessible from the client.
 *
 * @param func - The query function. It receives a {@link QueryCtx} as its first argument.
 * @returns The wrapped query. Include this as an \`export\` to name it and make it accessible.
 */
export declare const query: QueryBuilder<DataModel, "public">;

/**
 * Define a query that is only accessible from other Convex functions (but not from the client).
 *
 * This function will be allowed to read from your Convex database. It will not be accessible from the client.
 *
 * @param func - The query function. It receives a {@link QueryCtx} as its first argument.
 * @returns The wrapped query. Include this as an \`export\` to name it and make it accessible.
 */
export declare const internalQuery: QueryBuilder<DataModel, "internal">;

/**
 * Define a mutation in this Convex app's public API.
 *
 * This function will be allowed to modify your Convex database and will be accessible from the client.
 *
 * @param func - The mutation function. It receives a {@link MutationCtx} as its first argument.
 * @returns The wrapped mutation. Include this as an \`export\` to name it and make it accessible.
 */
export declare const mutation: MutationBuilder<DataModel, "public">;

/**
 * Define a mutation that is only accessible from other Convex functions (but not from the client).
 *
 * This function will be allowed to modify your Convex database. It will not be accessible from the client.
 *
 * @param func - The mutation function. It receives a {@link MutationCtx} as its first argument.
 * @returns The wrapped mutation. Include this as an \`export\` to name it and make it accessible.
 */
export declare const internalMutation: MutationBuilder<DataModel, "internal">;

/**
 * Define an action in this Convex app's public API.
 *
 * An action is a function which can execute any JavaScript code, including non-deterministic
 * code and code with side-effects, like calling third-party services.
 * They can be run in Convex's JavaScript environment or in Node.js using the "use node" directive.
 * They can interact with the database indirectly by calling queries and mutations using the {@link ActionCtx}.
 *
 * @param func - The action. It receives an {@link ActionCtx} as its first argument.
 * @returns The wrapped action. Include this as an \`export\` to name it and make it accessible.
 */
export declare const action: ActionBuilder<DataModel, "public">;

/**
 * Define an action that is only accessible from other Convex functions (but not from the client).
 *
 * @param func - The function. It receives an {@link ActionCtx} as its first argument.
 * @returns The wrapped function. Include this as an \`export\` to name it and make it accessible.
 */
export declare const internalAction: ActionBuilder<DataModel, "internal">;

/**
 * Define an HTTP action.
 *
 * The wrapped function will be used to respond to HTTP requests received
 * by a Convex deployment if the requests matches the path and method where
 * this action is routed. Be sure to route your httpAction in \`convex/http.js\`.
 *
 * @param func - The function. It receives an {@link ActionCtx} as its first argument
 * and a Fetch API \`Request\` object as its second.
 * @returns The wrapped function. Import this function from \`convex/http.js\` and route it to hook it up.
 */
export declare const httpAction: HttpActionBuilder;

export declare const env: Record<string, string | undefined>;

/**
 * A set of services for use within Convex query functions.
 *
 * The query context is passed as the first argument to any Convex query
 * function run on the server.
 *
 * This differs from the {@link MutationCtx} because all of the services are
 * read-only.
 */
export type QueryCtx = GenericQueryCtx<DataModel>;

/**
 * A set of services for use within Convex mutation functions.
 *
 * The mutation context is passed as the first argument to any Convex mutation
 * function run on the server.
 */
export type MutationCtx = GenericMutationCtx<DataModel>;

/**
 * A set of services for use within Convex action functions.
 *
 * The action context is passed as the first argument to any Convex action
 * function run on the server.
 */
export type ActionCtx = GenericActionCtx<DataModel>;

/**
 * An interface to read from the database within Convex query functions.
 *
 * The two entry points are {@link DatabaseReader.get}, which fetches a single
 * document by its {@link Id}, or {@link DatabaseReader.query}, which starts
 * building a query.
 */
export type DatabaseReader = GenericDatabaseReader<DataModel>;

/**
 * An interface to read from and write to the database within Convex mutation
 * functions.
 *
 * Convex guarantees that all writes within a single mutation are
 * executed atomically, so you never have to worry about partial writes leaving
 * your data in an inconsistent state. See [the Convex Guide](https://docs.convex.dev/understanding/convex-fundamentals/functions#atomicity-and-optimistic-concurrency-control)
 * for the guarantees Convex provides your functions.
 */
export type DatabaseWriter = GenericDatabaseWriter<DataModel>;
`

export const SERVER_JS = `/* eslint-disable */
/**
 * Generated utilities for implementing server-side Convex query and mutation functions.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run \`npx convex dev\`.
 * @module
 */

import {
  actionGeneric,
  httpActionGeneric,
  queryGeneric,
  mutationGeneric,
  internalActionGeneric,
  internalMutationGeneric,
  internalQueryGeneric,
} from "convex/server";

/**
 * Define a query in this Convex app's public API.
 *
 * This function will be allowed to read your Convex database and will be accessible from the client.
 *
 * @param func - The query function. It receives a {@link QueryCtx} as its first argument.
 * @returns The wrapped query. Include this as an \`export\` to name it and make it accessible.
 */
export const query = queryGeneric;

/**
 * Define a query that is only accessible from other Convex functions (but not from the client).
 *
 * This function will be allowed to read from your Convex database. It will not be accessible from the client.
 *
 * @param func - The query function. It receives a {@link QueryCtx} as its first argument.
 * @returns The wrapped query. Include this as an \`export\` to name it and make it accessible.
 */
export const internalQuery = internalQueryGeneric;

/**
 * Define a mutation in this Convex app's public API.
 *
 * This function will be allowed to modify your Convex database and will be accessible from the client.
 *
 * @param func - The mutation function. It receives a {@link MutationCtx} as its first argument.
 * @returns The wrapped mutation. Include this as an \`export\` to name it and make it accessible.
 */
export const mutation = mutationGeneric;

/**
 * Define a mutation that is only accessible from other Convex functions (but not from the client).
 *
 * This function will be allowed to modify your Convex database. It will not be accessible from the client.
 *
 * @param func - The mutation function. It receives a {@link MutationCtx} as its first argument.
 * @returns The wrapped mutation. Include this as an \`export\` to name it and make it accessible.
 */
export const internalMutation = internalMutationGeneric;

/**
 * Define an action in this Convex app's public API.
 *
 * An action is a function which can execute any JavaScript code, including non-deterministic
 * code and code with side-effects, like calling third-party services.
 * They can be run in Convex's JavaScript environment or in Node.js using the "use node" directive.
 * They can interact with the database indirectly by calling queries and mutations using the {@link ActionCtx}.
 *
 * @param func - The action. It receives an {@link ActionCtx} as its first argument.
 * @returns The wrapped action. Include this as an \`export\` to name it and make it accessible.
 */
export const action = actionGeneric;

/**
 * Define an action that is only accessible from other Convex functions (but not from the client).
 *
 * @param func - The function. It receives an {@link ActionCtx} as its first argument.
 * @returns The wrapped function. Include this as an \`export\` to name it and make it accessible.
 */
export const internalAction = internalActionGeneric;

/**
 * Define an HTTP action.
 *
 * The wrapped function will be used to respond to HTTP requests received
 * by a Convex deployment if the requests matches the path and method where
 * this action is routed. Be sure to route your httpAction in \`convex/http.js\`.
 *
 * @param func - The function. It receives an {@link ActionCtx} as its first argument
 * and a Fetch API \`Request\` object as its second.
 * @returns The wrapped function. Import this function from \`convex/http.js\` and route it to hook it up.
 */
export const httpAction = httpActionGeneric;

export const env = process.env;
`

const DATA_MODEL_DTS = `/* eslint-disable */
/**
 * Generated data model types.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run \`npx convex dev\`.
 * @module
 */

import type {
  DataModelFromSchemaDefinition,
  DocumentByName,
  TableNamesInDataModel,
  SystemTableNames,
} from "convex/server";
import type { GenericId } from "convex/values";
import schema from "../schema.js";

/**
 * The names of all of your Convex tables.
 */
export type TableNames = TableNamesInDataModel<DataModel>;

/**
 * The type of a document stored in Convex.
 *
 * @typeParam TableName - A string literal type of the table name (like "users").
 */
export type Doc<TableName extends TableNames> = DocumentByName<
  DataModel,
  TableName
>;

/**
 * An identifier for a document in Convex.
 *
 * Convex documents are uniquely identified by their \`Id\`, which is accessible
 * on the \`_id\` field. To learn more, see [Document IDs](https://docs.convex.dev/using/document-ids).
 *
 * Documents can be loaded using \`db.get(tableName, id)\` in query and mutation functions.
 *
 * IDs are just strings at runtime, but this type can be used to distinguish them from other
 * strings when type checking.
 *
 * @typeParam TableName - A string literal type of the table name (like "users").
 */
export type Id<TableName extends TableNames | SystemTableNames> =
  GenericId<TableName>;

/**
 * A type describing your Convex data model.
 *
 * This type includes information about what tables you have, the type of
 * documents stored in those tables, and the indexes defined on them.
 *
 * This type is used to parameterize methods like \`queryGeneric\` and
 * \`mutationGeneric\` to make them type-safe.
 */
export type DataModel = DataModelFromSchemaDefinition<typeof schema>;
`

export const API_JS = `/* eslint-disable */
/**
 * Generated \`api\` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run \`npx convex dev\`.
 * @module
 */

import { anyApi } from "convex/server";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * \`\`\`js
 * const myFunctionReference = api.myModule.myFunction;
 * \`\`\`
 */
export const api = anyApi;
export const internal = anyApi;
`

/** The files for the modules in `dir`, by name. */
export function generateConvexFiles(dir: string = CONVEX_DIR): Record<string, string> {
  if (!existsSync(join(dir, 'schema.ts'))) throw new Error(`${dir}/schema.ts is missing: this generator only writes the schema-typed data model`)
  return {
    'api.d.ts': renderApiDts(convexModulePaths(dir)),
    'api.js': API_JS,
    'dataModel.d.ts': DATA_MODEL_DTS,
    'server.d.ts': SERVER_DTS,
    'server.js': SERVER_JS,
  }
}

/** Names of the files in `dir/_generated` that differ from (or are missing against) the generated ones. */
export function staleConvexFiles(dir: string = CONVEX_DIR): string[] {
  return Object.entries(generateConvexFiles(dir))
    .filter(([name, content]) => {
      const path = join(dir, '_generated', name)
      return !existsSync(path) || readFileSync(path, 'utf8') !== content
    })
    .map(([name]) => name)
}

function main(args: string[]): number {
  if (args.includes('--check')) {
    const stale = staleConvexFiles()
    if (stale.length === 0) return 0
    console.error(`convex/_generated is out of date (${stale.join(', ')}): run npx tsx scripts/convex-codegen.ts`)
    return 1
  }
  mkdirSync(join(CONVEX_DIR, '_generated'), { recursive: true })
  for (const [name, content] of Object.entries(generateConvexFiles())) {
    writeFileSync(join(CONVEX_DIR, '_generated', name), content)
  }
  return 0
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2))
