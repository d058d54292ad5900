/**
 * Writes the committed `_generated/` folders of the Convex code with the installed convex CLI's
 * `convex codegen`, offline: the System & Updates component (`convex/component`) and the two apps
 * that install it (`playground/convex`, the standalone app, and `tests/fixtures/host/convex`, the
 * fixture host app).
 *
 * For an app with components, `convex codegen` needs a deployment: the CLI bundles the definitions
 * and modules, sends them to the backend (`POST /api/deploy2/start_push`), and writes the files
 * from the backend's analysis of them (the component tree, and which functions each module exports
 * with their validators). Here the CLI runs unchanged against a loopback server that answers that
 * request the way the backend does: it evaluates the bundles the CLI sent — each definition's
 * `export()`, and each module's registered functions through the methods the backend reads them
 * by (`isQuery`…, `isPublic`, `exportArgs`, `exportReturns`) — and a component exports its public
 * functions to the app that installs it. Everything else (discovery, bundling, templates,
 * formatting) is the CLI's own.
 *
 *   npx tsx scripts/convex-codegen.ts           rewrite the files
 *   npx tsx scripts/convex-codegen.ts --check   exit 1 when a committed file is out of date
 */
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { brotliDecompressSync } from 'node:zlib'

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))
/** The Convex apps, by project folder (each has `convex/`); both install the component. */
export const CONVEX_APPS = ['playground', 'tests/fixtures/host'] as const
/** Every folder with a committed `_generated/`, relative to the repository. */
export const GENERATED_DIRS = ['convex/component', ...CONVEX_APPS.map(app => `${app}/convex`)] as const
/** What the Convex code imports: copied into the throwaway project the codegen runs in. */
const SOURCES = ['convex', 'shared', ...CONVEX_APPS.map(app => `${app}/convex`)]

const CONVEX_BIN = join(dirname(createRequire(import.meta.url).resolve('convex/package.json')), 'bin/main.js')
/** Any key: the loopback deployment checks none. */
const ADMIN_KEY = 'offline-codegen|0000'

// ---- the part of the deployment's API that `convex codegen` uses

/** A bundled module or definition, as the CLI sends it. */
interface BundledModule {
  path: string
  source: string
  sourceMap?: string
}

interface DefinitionRequest {
  definitionPath: string
  definition: BundledModule
  /** Definition paths of the components it installs. */
  dependencies: string[]
}

interface StartPushRequest {
  /** The app's definition path is the empty one: the app's own folder. */
  appDefinition: Omit<DefinitionRequest, 'definitionPath'> & { changedModules: BundledModule[] }
  componentDefinitions: Array<DefinitionRequest & { functions: BundledModule[] }>
}

/** A registered Convex function, read the way the backend reads it (convex/server's registration). */
interface Registered {
  isQuery?: boolean
  isMutation?: boolean
  isAction?: boolean
  isPublic?: boolean
  exportArgs: () => string
  exportReturns: () => string | null
}

function isRegistered(value: unknown): value is Registered {
  if (typeof value !== 'function') return false
  const fn = value as Partial<Registered>
  return (fn.isQuery === true || fn.isMutation === true || fn.isAction === true) && typeof fn.exportArgs === 'function'
}

type ExportTree = { [name: string]: ExportTree | string }

function serializeExportTree(tree: ExportTree): object {
  return {
    type: 'branch',
    branch: Object.entries(tree).map(([name, child]) => [name, typeof child === 'string' ? { type: 'leaf', leaf: child } : serializeExportTree(child)]),
  }
}

/**
 * Evaluates one definition and its modules as the backend does, in a folder of their own. A
 * definition imports each component it installs as `./_componentDeps/<base64url of its path>`,
 * which the backend provides: the component's path and its name (`defaultName`).
 */
async function analyze(request: DefinitionRequest, modules: BundledModule[], isRoot: boolean, dir: string, names: Map<string, string>): Promise<{ name?: string, [field: string]: unknown }> {
  mkdirSync(join(dir, '_componentDeps'), { recursive: true })
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
  for (const module of [request.definition, ...modules]) {
    mkdirSync(dirname(join(dir, module.path)), { recursive: true })
    writeFileSync(join(dir, module.path), module.source)
    if (module.sourceMap) writeFileSync(join(dir, `${module.path}.map`), module.sourceMap)
  }
  for (const [componentDefinitionPath, defaultName] of names) {
    writeFileSync(join(dir, '_componentDeps', `${Buffer.from(componentDefinitionPath).toString('base64url')}.js`), `export default ${JSON.stringify({ componentDefinitionPath, defaultName })}\n`)
  }
  const load = (path: string) => import(pathToFileURL(join(dir, path)).href) as Promise<Record<string, unknown>>
  const definition = ((await load(request.definition.path)).default as { export: () => { name?: string } }).export()

  const functions: Record<string, object> = {}
  const exportTree: ExportTree = {}
  for (const module of modules.filter(m => !m.path.startsWith('_deps/')).sort((a, b) => a.path.localeCompare(b.path))) {
    const modulePath = module.path.replace(/\.js$/, '')
    const analyzed = []
    for (const [name, value] of Object.entries(await load(module.path))) {
      if (!isRegistered(value)) continue
      const udfType = value.isQuery ? 'Query' : value.isMutation ? 'Mutation' : 'Action'
      analyzed.push({ name, pos: null, udfType, visibility: { kind: value.isPublic ? 'public' : 'internal' }, args: value.exportArgs(), returns: value.exportReturns() })
      // A component's public functions are its API towards the app that installs it.
      if (!isRoot && value.isPublic) {
        let node = exportTree
        for (const part of modulePath.split('/')) node = (node[part] ??= {}) as ExportTree
        node[name] = `_reference/function/${modulePath}:${name}`
      }
    }
    functions[`${modulePath}.js`] = { functions: analyzed, httpRoutes: null, cronSpecs: null, sourceMapped: null }
  }
  return {
    name: definition.name,
    definition: { ...definition, path: request.definitionPath, ...(isRoot ? {} : { exports: serializeExportTree(exportTree) }) },
    schema: null,
    functions,
    udfConfig: { serverVersion: 'offline', importPhaseRngSeed: null, importPhaseUnixTimestamp: null },
  }
}

async function startPush(request: StartPushRequest, evalDir: string): Promise<object> {
  const analysis: Record<string, object> = {}
  const names = new Map<string, string>()
  const { appDefinition, componentDefinitions } = request
  // A component after those it installs, so their names are known when its definition runs.
  const pending = [...componentDefinitions]
  while (pending.length > 0) {
    const next = pending.findIndex(c => c.dependencies.every(d => names.has(d)))
    if (next === -1) throw new Error(`component definitions depend on each other in a cycle: ${pending.map(c => c.definitionPath).join(', ')}`)
    const [component] = pending.splice(next, 1) as [typeof pending[number]]
    const { name, ...evaluated } = await analyze(component, component.functions, false, join(evalDir, `component-${names.size}`), names)
    names.set(component.definitionPath, name ?? basename(component.definitionPath))
    analysis[component.definitionPath] = evaluated
  }
  const { name: _, ...app } = await analyze({ ...appDefinition, definitionPath: '' }, appDefinition.changedModules, true, join(evalDir, 'app'), names)
  analysis[''] = app
  return {
    environmentVariables: {},
    externalDepsId: null,
    componentDefinitionPackages: {},
    appAuth: [],
    analysis,
    app: { definitionPath: '', componentPath: '', args: {}, childComponents: {}, httpRoutes: { httpModuleRoutes: null, mounts: [] }, exports: {} },
    schemaChange: { allocatedComponentIds: null, schemaIds: null },
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body = Buffer.concat(chunks)
  return JSON.parse((req.headers['content-encoding'] === 'br' ? brotliDecompressSync(body) : body).toString('utf8'))
}

/** A loopback deployment answering what `convex codegen` asks; each push is evaluated in a fresh folder under `evalDir`. */
async function startDeployment(evalDir: string): Promise<{ url: string, server: Server }> {
  let pushes = 0
  const server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    void (async () => {
      const body = await readJson(req).catch(() => null)
      if (req.method === 'POST' && req.url === '/api/get_config_hashes') {
        return reply(200, { config: { functions: 'convex/' }, moduleHashes: [], nodeDependencies: [], udfServerVersion: null })
      }
      if (req.method === 'POST' && req.url === '/api/deploy2/start_push') {
        return reply(200, await startPush(body as StartPushRequest, join(evalDir, `push-${pushes++}`)))
      }
      reply(404, { code: 'NotFound', message: `the offline codegen deployment does not serve ${req.method} ${req.url}` })
    })().catch((err: unknown) => reply(500, { code: 'OfflineCodegenError', message: err instanceof Error ? err.stack : String(err) }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

// ---- codegen of a copy of the sources

/** Runs the codegen in a copy of the sources under `root`; answers the generated files. */
async function generate(root: string): Promise<Record<string, string>> {
  const work = mkdtempSync(join(tmpdir(), 'owlat-codegen-'))
  const { url, server } = await startDeployment(join(work, '.eval'))
  try {
    for (const source of SOURCES) {
      cpSync(join(root, source), join(work, source), { recursive: true, filter: path => basename(path) !== '_generated' })
    }
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(work, 'node_modules'), 'dir')
    await Promise.all(CONVEX_APPS.map(async (app) => {
      writeFileSync(join(work, app, 'package.json'), JSON.stringify({ type: 'module', dependencies: { convex: '*' } }))
      await promisify(execFile)(process.execPath, [CONVEX_BIN, 'codegen', '--typecheck', 'disable'], {
        cwd: join(work, app),
        // Only what the CLI needs: no deployment of the developer's may be picked up.
        env: { PATH: process.env.PATH, HOME: work, CONVEX_SELF_HOSTED_URL: url, CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY },
      }).catch((err: { stdout?: string, stderr?: string }) => {
        throw new Error(`convex codegen failed for ${app}:\n${err.stderr ?? ''}${err.stdout ?? ''}`, { cause: err })
      })
    }))
    const files: Record<string, string> = {}
    for (const dir of GENERATED_DIRS) {
      const generated = join(work, dir, '_generated')
      for (const name of readdirSync(generated).sort()) files[`${dir}/_generated/${name}`] = readFileSync(join(generated, name), 'utf8')
    }
    return files
  }
  finally {
    await new Promise(resolve => server.close(resolve))
    rmSync(work, { recursive: true, force: true })
  }
}

/**
 * The generated files of every folder in GENERATED_DIRS, keyed `<folder>/_generated/<file>`, made
 * from the sources under `root`. In a process of its own, which imports the bundles with Node's
 * own loader whoever calls (a test runner would transform every bundle first).
 */
export async function generateConvexFiles(root: string = REPO_ROOT): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--generate', root], { maxBuffer: 64 * 1024 * 1024 })
    .catch((err: { stderr?: string }) => {
      throw new Error(err.stderr || String(err), { cause: err })
    })
  return JSON.parse(stdout) as Record<string, string>
}

function committedFiles(root: string): string[] {
  return GENERATED_DIRS.flatMap((dir) => {
    const generated = join(root, dir, '_generated')
    return existsSync(generated) ? readdirSync(generated).map(name => `${dir}/_generated/${name}`) : []
  })
}

/**
 * Files (relative to `root`) that are missing, differ from what the codegen makes (`expected`,
 * made from the same sources when not given), or should not be there.
 */
export async function staleConvexFiles(root: string = REPO_ROOT, expected?: Record<string, string>): Promise<string[]> {
  expected ??= await generateConvexFiles(root)
  const committed = committedFiles(root)
  const files = expected
  return [...new Set([...Object.keys(files), ...committed])].sort()
    .filter(file => files[file] === undefined || !committed.includes(file) || readFileSync(join(root, file), 'utf8') !== files[file])
}

/** Replaces every `_generated/` folder under `root` with what the codegen makes. */
export async function writeConvexFiles(root: string = REPO_ROOT): Promise<void> {
  const files = await generateConvexFiles(root)
  for (const dir of GENERATED_DIRS) rmSync(join(root, dir, '_generated'), { recursive: true, force: true })
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true })
    writeFileSync(join(root, file), content)
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--generate')
  if (at !== -1) {
    process.stdout.write(JSON.stringify(await generate(process.argv[at + 1]!)))
  }
  else if (process.argv.includes('--check')) {
    const stale = await staleConvexFiles()
    if (stale.length > 0) console.error(`convex _generated files are out of date (${stale.join(', ')}): run npx tsx scripts/convex-codegen.ts`)
    process.exitCode = stale.length > 0 ? 1 : 0
  }
  else {
    await writeConvexFiles()
  }
}
