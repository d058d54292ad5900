/**
 * The committed `_generated/` folders (the component's and the two apps') must be what the
 * installed convex CLI's `convex codegen` makes of the current sources (scripts/convex-codegen.ts
 * runs it against a loopback deployment that analyses the pushed bundles offline).
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { GENERATED_DIRS, REPO_ROOT, generateConvexFiles, staleConvexFiles } from '../../scripts/convex-codegen'

const COMPONENT_DIR = join(REPO_ROOT, 'convex/component')
/** The component's function modules (what its api types), without the CLI's help. */
const modules = readdirSync(COMPONENT_DIR).filter(name => /^\w+\.ts$/.test(name) && name !== 'schema.ts').map(name => name.slice(0, -3))

describe('convex _generated', () => {
  let files: Record<string, string>

  beforeAll(async () => {
    files = await generateConvexFiles()
  })

  it('is in sync with the sources (run npx tsx scripts/convex-codegen.ts when this fails)', async () => {
    expect(await staleConvexFiles(REPO_ROOT, files)).toEqual([])
  })

  it('types the component\'s api over its modules, and what it exports to an app over its public functions', () => {
    expect(modules).toEqual(expect.arrayContaining(['audit', 'dismissals', 'releases', 'runs', 'settings', 'users']))
    expect(Object.keys(files).filter(f => f.startsWith('convex/component/'))).toEqual(
      ['api.ts', 'component.ts', 'dataModel.ts', 'server.ts'].map(name => `convex/component/_generated/${name}`),
    )
    const api = files['convex/component/_generated/api.ts']!
    for (const module of modules) expect(api).toContain(`import type * as ${module} from "../${module}.js";`)
    expect(api).not.toContain('schema')
    const component = files['convex/component/_generated/component.ts']!
    expect(component).toContain('export type ComponentApi<Name extends string | undefined = string | undefined> =')
    // Every function of the component, typed from its validators, and reachable from the app only.
    expect(component).toMatch(/open: FunctionReference<\s*"mutation",\s*"internal",/)
    expect(component).toMatch(/getActive: FunctionReference<\s*"query",\s*"internal",/)
    expect(component).not.toContain('"public"')
  })

  it('types each app\'s components with the component it installed, under the name it gave it', () => {
    for (const app of GENERATED_DIRS.filter(dir => dir !== 'convex/component')) {
      const api = files[`${app}/_generated/api.d.ts`]!
      expect(api).toContain('import type * as owlatSystem from "../owlatSystem.js";')
      expect(api).toMatch(/owlatSystem: import\("(\.\.\/)+convex\/component\/_generated\/component\.js"\)\.ComponentApi<"owlatSystem">;/)
    }
    expect(files['tests/fixtures/host/convex/_generated/dataModel.d.ts']).toContain('import schema from "../schema.js";')
  })

  describe('in a copy of the sources', () => {
    let root: string | undefined

    afterEach(() => {
      if (root) rmSync(root, { recursive: true, force: true })
      root = undefined
    })

    it('finds a new module, skips what the CLI skips, and reports a file that does not belong', async () => {
      root = mkdtempSync(join(tmpdir(), 'owlat-convex-'))
      for (const dir of ['convex', 'shared', 'playground/convex', 'tests/fixtures/host/convex']) cpSync(join(REPO_ROOT, dir), join(root, dir), { recursive: true })
      const component = join(root, 'convex/component')
      writeFileSync(join(component, 'health.ts'), 'import { v } from \'convex/values\'\nimport { query } from \'./_generated/server\'\n\nexport const ping = query({ args: {}, returns: v.literal(\'pong\'), handler: async () => \'pong\' as const })\n')
      for (const skipped of ['runs.test.ts', '.hidden.ts', '#runs.ts#', 'notes.md', 'empty.ts']) writeFileSync(join(component, skipped), skipped === 'empty.ts' ? '// nothing\n' : 'export {}\n')
      writeFileSync(join(component, '_generated', 'old.js'), '')
      expect(await staleConvexFiles(root)).toEqual(['convex/component/_generated/api.ts', 'convex/component/_generated/component.ts', 'convex/component/_generated/old.js'])
      const generated = await generateConvexFiles(root)
      const imported = [...generated['convex/component/_generated/api.ts']!.matchAll(/^import type \* as \w+ from "\.\.\/(.+)\.js";$/gm)].map(m => m[1])
      expect(imported).toEqual([...modules, 'health'].sort())
      expect(generated['convex/component/_generated/component.ts']).toMatch(/health: \{\s*ping: FunctionReference<"query", "internal", \{\}, "pong", Name>;/)
    }, 240_000) // two runs of the convex CLI's codegen: up to a minute each on a busy machine
  })

  it('passes the script\'s --check', () => {
    expect(() => execFileSync(process.execPath, ['--import', 'tsx', 'scripts/convex-codegen.ts', '--check'], { stdio: 'pipe' })).not.toThrow()
  }, 120_000)
})
