/**
 * `convex/_generated/` must be what the installed convex CLI's codegen makes of the current
 * `convex/` modules (scripts/convex-codegen.ts runs it offline).
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CONVEX_DIR, generateConvexFiles, staleConvexFiles } from '../../scripts/convex-codegen'

/** The function modules in convex/ (what the api types), without the CLI's help. */
const modules = readdirSync(CONVEX_DIR).filter(name => name.endsWith('.ts') && name !== 'schema.ts').map(name => name.slice(0, -3))

describe('convex/_generated', () => {
  it('is in sync with the modules in convex/ (run npx tsx scripts/convex-codegen.ts when this fails)', () => {
    expect(staleConvexFiles()).toEqual([])
  })

  it('types the api over every function module and the data model over the schema', () => {
    expect(modules).toEqual(expect.arrayContaining(['audit', 'dismissals', 'releases', 'runs', 'settings', 'users']))
    const files = generateConvexFiles()
    expect(Object.keys(files)).toEqual(['api.d.ts', 'api.js', 'dataModel.d.ts', 'server.d.ts', 'server.js'])
    expect(files['api.d.ts']).toContain('declare const fullApi: ApiFromModules<{')
    for (const module of modules) {
      expect(files['api.d.ts']).toContain(`import type * as ${module} from "../${module}.js";`)
      expect(files['api.d.ts']).toContain(`  ${module}: typeof ${module};`)
    }
    expect(files['api.d.ts']).not.toContain('schema')
    expect(files['dataModel.d.ts']).toContain('import schema from "../schema.js";')
  })

  describe('in a copy of convex/', () => {
    let dir: string | undefined

    afterEach(() => {
      if (dir) rmSync(dir, { recursive: true, force: true })
      dir = undefined
    })

    it('finds a new module, skips what the CLI skips, and reports a file that does not belong', () => {
      dir = mkdtempSync(join(tmpdir(), 'owlat-convex-'))
      cpSync(CONVEX_DIR, dir, { recursive: true })
      writeFileSync(join(dir, 'health.ts'), 'export const x = 1\n')
      for (const skipped of ['runs.test.ts', '.hidden.ts', '#runs.ts#', 'notes.md', 'empty.ts']) writeFileSync(join(dir, skipped), skipped === 'empty.ts' ? '// nothing\n' : 'export {}\n')
      writeFileSync(join(dir, '_generated', 'old.js'), '')
      expect(staleConvexFiles(dir)).toEqual(['api.d.ts', 'old.js'])
      const api = generateConvexFiles(dir)['api.d.ts']!
      const imported = [...api.matchAll(/^import type \* as \w+ from "\.\.\/(.+)\.js";$/gm)].map(m => m[1])
      expect(imported).toEqual([...modules, 'health'].sort())
    })
  })

  it('passes the script\'s --check', () => {
    expect(() => execFileSync(process.execPath, ['--import', 'tsx', 'scripts/convex-codegen.ts', '--check'], { stdio: 'pipe' })).not.toThrow()
  })
})
