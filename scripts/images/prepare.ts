/**
 * Lays out what one image ships, inside deploy/Dockerfile's build stages (offline, from the sources
 * and the node_modules `npm ci` installed):
 *
 *   node --import tsx scripts/images/prepare.ts updater OUT
 *     OUT/dist/{sidecar,cli,healthcheck}.mjs  the updater sidecar, the `owlat` CLI and the image's
 *                                            healthcheck, bundled by esbuild (no tsx, no full node_modules)
 *     OUT/node_modules/                      what the bundles leave external: better-sqlite3 (native)
 *     OUT/package.json, OUT/bin/owlat
 *
 *   node --import tsx scripts/images/prepare.ts convex-deploy OUT
 *     OUT/convex.json, OUT/playground/convex/  the standalone app's Convex app, which installs the component
 *     OUT/convex/, OUT/shared/               the module's component and the shared rules and schemas it imports
 *     OUT/node_modules/                      `convex` (for `npx convex deploy`) and what the functions import
 *     OUT/package.json
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { z } from 'zod'

const ROOT = resolve(import.meta.dirname, '../..')

const packageJsonSchema = z.object({
  name: z.string(),
  version: z.string(),
  bin: z.union([z.string(), z.record(z.string(), z.string())]).optional(),
  dependencies: z.record(z.string(), z.string()).optional(),
  optionalDependencies: z.record(z.string(), z.string()).optional(),
}).loose()

function readPackage(dir: string) {
  return packageJsonSchema.parse(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')))
}

/** Node's lookup: `<from>/node_modules/<name>`, then each parent folder's, up to the repository. */
function resolvePackage(name: string, from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
    if (dir === ROOT || dir === dirname(dir)) return null
  }
}

/** Leaves out what a package needs only to be built or on other platforms. */
export type PackageFilter = (pkgName: string, relPath: string) => boolean

/**
 * Copies `roots` and everything they depend on at run time (dependencies, and optional ones that
 * are installed) from the repository's node_modules into `out/node_modules`, each at the same
 * relative place, so Node resolves them exactly as it does here.
 */
export function copyPackages(roots: string[], out: string, filter: PackageFilter = () => true): string[] {
  const copied = new Set<string>()
  const visit = (name: string, from: string, optional: boolean) => {
    const dir = resolvePackage(name, from)
    if (!dir) {
      if (optional) return
      throw new Error(`${name} (needed by ${relative(ROOT, from) || 'the image'}) is not installed: run npm ci`)
    }
    if (copied.has(dir)) return
    copied.add(dir)
    const pkg = readPackage(dir)
    const target = join(out, relative(ROOT, dir))
    cpSync(dir, target, {
      recursive: true,
      verbatimSymlinks: true,
      // Nested node_modules are copied package by package, as the walk reaches them.
      filter: src => !relative(dir, src).split('/').includes('node_modules') && filter(pkg.name, relative(dir, src)),
    })
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir, false)
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) visit(dep, dir, true)
  }
  for (const root of roots) visit(root, ROOT, false)
  return [...copied].map(dir => relative(ROOT, dir)).sort()
}

/** `node_modules/.bin/<name>` for each of `pkg`'s commands, as npm makes them. */
function linkBins(out: string, pkgName: string): void {
  const dir = join(out, 'node_modules', pkgName)
  const { bin } = readPackage(dir)
  const bins = typeof bin === 'string' ? { [pkgName]: bin } : bin ?? {}
  mkdirSync(join(out, 'node_modules', '.bin'), { recursive: true })
  for (const [name, file] of Object.entries(bins)) {
    const link = join(out, 'node_modules', '.bin', name)
    rmSync(link, { force: true })
    symlinkSync(relative(dirname(link), join(dir, file)), link)
    chmodSync(join(dir, file), 0o755)
  }
}

// better-sqlite3 ships prebuilt addons for every platform plus the SQLite sources to build one.
const PLATFORM_ADDON = `${process.platform}-${process.arch}.node`
const runtimeOnly: PackageFilter = (pkg, rel) => {
  if (pkg === 'node-addon-api') return false // headers for building an addon, never loaded
  if (pkg !== 'better-sqlite3') return true
  const [top, file] = rel.split('/')
  if (top === 'deps' || top === 'src' || top === 'build' || top === 'binding.gyp') return false
  return top !== 'prebuilds' || file === undefined || file === PLATFORM_ADDON
}

/**
 * Bundles the updater sidecar, the `owlat` CLI and the image's healthcheck into `outdir` as
 * `{sidecar,cli,healthcheck}.mjs` with esbuild (and `npm start`'s launcher as `start.mjs` when
 * asked): plain JavaScript for Node 22, with only better-sqlite3 (native) left to node_modules.
 * The images (below) and `npm start` (scripts/build-tools.ts) run these, not tsx.
 */
export async function bundleTools(outdir: string, opts: { start?: boolean } = {}): Promise<void> {
  mkdirSync(outdir, { recursive: true })
  const entry = join(outdir, '.cli-entry.ts')
  // The CLI's own bin (cli/bin.mjs) imports `run`; the bundle calls the same `run` directly.
  writeFileSync(entry, `import { run } from ${JSON.stringify(join(ROOT, 'cli/main.ts'))}\nawait run()\n`)
  try {
    await build({
      absWorkingDir: ROOT,
      entryPoints: {
        sidecar: join(ROOT, 'sidecar/main.ts'),
        cli: entry,
        healthcheck: join(ROOT, 'sidecar/healthcheck.ts'),
        ...(opts.start ? { start: join(ROOT, 'scripts/start.ts') } : {}),
      },
      outdir,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      // Native: loaded from node_modules at run time. cpu-features is ssh2's optional speed-up.
      external: ['better-sqlite3', 'cpu-features'],
      // The CommonJS dependencies bundled into ESM still call require() for Node's built-ins and use __dirname.
      banner: {
        js: [
          'import { createRequire as __owlatRequire } from \'node:module\';',
          'const require = __owlatRequire(import.meta.url);',
          'const __filename = new URL(import.meta.url).pathname;',
          'const __dirname = __filename.slice(0, __filename.lastIndexOf(\'/\'));',
        ].join(' '),
      },
      legalComments: 'linked',
      // Without comments and spaces the source V8 keeps in memory is a third smaller, and plain
      // ASCII (a single `…` in a comment makes V8 hold all of it two bytes a character): the
      // updater's heap holds 3 MB of source instead of 9, ~6 MB less resident. Names stay, so
      // stack traces still read.
      minifyWhitespace: true,
      minifySyntax: true,
      logLevel: 'warning',
    })
  }
  finally {
    rmSync(entry, { force: true })
  }
}

async function prepareUpdater(out: string): Promise<void> {
  await bundleTools(join(out, 'dist'))
  copyPackages(['better-sqlite3'], out, runtimeOnly)
  const { version } = readPackage(ROOT)
  // The CLI reads its version from ../package.json next to dist/.
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ name: 'owlat-updater', version, private: true, type: 'module' }, null, 2)}\n`)
  mkdirSync(join(out, 'bin'), { recursive: true })
  writeFileSync(join(out, 'bin', 'owlat'), '#!/bin/sh\nexec node /app/dist/cli.mjs "$@"\n', { mode: 0o755 })
}

/**
 * The packages the Convex app's functions import (through the component and shared/), found by
 * esbuild the way the convex CLI's own bundling will, so the image carries exactly those.
 */
async function functionPackages(dirs: string[]): Promise<string[]> {
  const entryPoints = dirs.flatMap(dir => readdirSync(dir).filter(f => f.endsWith('.ts')).map(f => join(dir, f)))
  const result = await build({ entryPoints, bundle: true, write: false, metafile: true, packages: 'external', platform: 'neutral', outdir: join(ROOT, '.unused'), logLevel: 'silent' })
  const names = new Set<string>(['convex'])
  for (const input of Object.values(result.metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external || imported.path.startsWith('node:')) continue
      const parts = imported.path.split('/')
      names.add(imported.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!)
    }
  }
  return [...names].sort()
}

async function prepareConvexDeploy(out: string): Promise<void> {
  mkdirSync(out, { recursive: true })
  // convex.json points the CLI at playground/convex, the app that installs the component with app.use.
  cpSync(join(ROOT, 'convex.json'), join(out, 'convex.json'))
  cpSync(join(ROOT, 'playground', 'convex'), join(out, 'playground', 'convex'), { recursive: true })
  cpSync(join(ROOT, 'convex'), join(out, 'convex'), { recursive: true })
  // The component imports the run state machine, step names and record schemas from shared/.
  cpSync(join(ROOT, 'shared'), join(out, 'shared'), { recursive: true })
  // The app's own functions and the component's, each deployed by the CLI.
  const packages = await functionPackages([join(ROOT, 'playground', 'convex'), join(ROOT, 'convex', 'component')])
  copyPackages(packages, out)
  linkBins(out, 'convex')
  const dependencies = Object.fromEntries(packages.map(name => [name, readPackage(join(ROOT, 'node_modules', name)).version]))
  const pkg = { name: 'owlat-convex-functions', private: true, type: 'module', dependencies }
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
}

const targets = { 'updater': prepareUpdater, 'convex-deploy': prepareConvexDeploy } as const

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [target, outArg] = process.argv.slice(2)
  if (!target || !(target in targets) || !outArg) {
    console.error('usage: prepare.ts updater|convex-deploy OUT')
    process.exit(2)
  }
  const out = resolve(outArg)
  rmSync(out, { recursive: true, force: true })
  await targets[target as keyof typeof targets](out)
  console.log(`prepared ${target} in ${out}`)
}
