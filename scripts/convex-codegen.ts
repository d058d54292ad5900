/**
 * Writes `convex/_generated/` with the installed convex CLI's own codegen, offline. Plain
 * `npx convex codegen` needs a deployment to push to, which builds and tests do not have;
 * `--system-udfs` is the CLI's path that generates from the sources alone (module discovery,
 * templates and prettier pass all the CLI's), which is all these files depend on.
 *
 *   npx tsx scripts/convex-codegen.ts           rewrite the files
 *   npx tsx scripts/convex-codegen.ts --check   exit 1 when a committed file is out of date
 */
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const CONVEX_DIR = fileURLToPath(new URL('../convex', import.meta.url))
const CONVEX_BIN = join(dirname(createRequire(import.meta.url).resolve('convex/package.json')), 'bin/main.js')

/** Runs the CLI's codegen for the `convex/` folder of the project in `root`. */
function codegen(root: string): void {
  execFileSync(process.execPath, [CONVEX_BIN, 'codegen', '--system-udfs', '--typecheck', 'disable'], { cwd: root, stdio: 'pipe' })
}

/** The generated files for the functions in `dir`, by name, made in a throwaway copy of it. */
export function generateConvexFiles(dir: string = CONVEX_DIR): Record<string, string> {
  const root = mkdtempSync(join(tmpdir(), 'owlat-codegen-'))
  try {
    writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module', dependencies: { convex: '*' } }))
    cpSync(dir, join(root, 'convex'), { recursive: true, filter: source => basename(source) !== '_generated' })
    codegen(root)
    const generated = join(root, 'convex/_generated')
    return Object.fromEntries(readdirSync(generated).sort().map(name => [name, readFileSync(join(generated, name), 'utf8')]))
  }
  finally {
    rmSync(root, { recursive: true, force: true })
  }
}

/** Names of the files in `dir/_generated` that are missing, differ, or should not be there. */
export function staleConvexFiles(dir: string = CONVEX_DIR): string[] {
  const expected = generateConvexFiles(dir)
  const committed = existsSync(join(dir, '_generated')) ? readdirSync(join(dir, '_generated')) : []
  return [...new Set([...Object.keys(expected), ...committed])].sort()
    .filter(name => expected[name] === undefined || !committed.includes(name) || readFileSync(join(dir, '_generated', name), 'utf8') !== expected[name])
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--check')) {
    const stale = staleConvexFiles()
    if (stale.length > 0) console.error(`convex/_generated is out of date (${stale.join(', ')}): run npx tsx scripts/convex-codegen.ts`)
    process.exitCode = stale.length > 0 ? 1 : 0
  }
  else {
    codegen(fileURLToPath(new URL('..', import.meta.url)))
  }
}
