/**
 * `convex/_generated/` must be what `scripts/convex-codegen.ts` makes of the current `convex/`
 * modules, and that must be what the convex CLI's own templates (plus its prettier pass) make.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import {
  API_JS, CONVEX_DIR, SERVER_DTS, SERVER_JS, convexModulePaths, generateConvexFiles, renderApiDts, staleConvexFiles,
} from '../../scripts/convex-codegen'

interface CliTemplates {
  apiCodegen(modulePaths: string[], opts?: { useTypeScript?: boolean }): { DTS: string, JS: string }
  serverCodegen(opts: { useTypeScript: boolean, envVars: undefined }): { DTS: string, JS: string }
}

/** The installed convex CLI's codegen templates and the prettier it formats them with. */
async function convexCli(): Promise<{ templates: CliTemplates, format: (source: string) => Promise<string> }> {
  const require = createRequire(import.meta.url)
  const convexRoot = dirname(require.resolve('convex/package.json'))
  const templatesDir = join(convexRoot, 'dist/esm/cli/codegen_templates')
  const api: Pick<CliTemplates, 'apiCodegen'> = await import(pathToFileURL(join(templatesDir, 'api.js')).href)
  const server: Pick<CliTemplates, 'serverCodegen'> = await import(pathToFileURL(join(templatesDir, 'server.js')).href)
  // prettier is a dependency of the convex package, so it is resolved from there.
  const prettierPath = createRequire(join(convexRoot, 'package.json')).resolve('prettier')
  const prettier: { format(source: string, opts: { parser: string }): Promise<string> } = await import(pathToFileURL(prettierPath).href)
  return {
    templates: { apiCodegen: api.apiCodegen, serverCodegen: server.serverCodegen },
    format: source => prettier.format(source, { parser: 'typescript' }),
  }
}

describe('convex/_generated', () => {
  it('is in sync with the modules in convex/ (run npx tsx scripts/convex-codegen.ts when this fails)', () => {
    expect(staleConvexFiles()).toEqual([])
    expect(readdirSync(join(CONVEX_DIR, '_generated')).sort()).toEqual(Object.keys(generateConvexFiles()).sort())
  })

  it('types the api over every function module', () => {
    const modules = convexModulePaths()
    expect(modules).toEqual(expect.arrayContaining(['audit.ts', 'dismissals.ts', 'releases.ts', 'runs.ts', 'settings.ts', 'users.ts']))
    expect(modules).not.toContain('schema.ts')
    const dts = generateConvexFiles()['api.d.ts']
    expect(dts).toContain('declare const fullApi: ApiFromModules<{')
    for (const module of modules) {
      const name = module.replace(/\.ts$/, '')
      expect(dts).toContain(`import type * as ${name} from "../${name}.js";`)
      expect(dts).toContain(`  ${name}: typeof ${name};`)
    }
  })

  it('matches the convex CLI\'s templates, formatted as the CLI formats them', async () => {
    const { templates, format } = await convexCli()
    for (const modules of [convexModulePaths(), ['a.ts', 'delete.ts', 'lib/b-c.ts', 'api.ts'], []]) {
      const api = templates.apiCodegen(modules)
      expect(renderApiDts(modules)).toBe(await format(api.DTS))
      expect(API_JS).toBe(await format(api.JS))
    }
    const server = templates.serverCodegen({ useTypeScript: false, envVars: undefined })
    expect(SERVER_DTS).toBe(await format(server.DTS))
    expect(SERVER_JS).toBe(await format(server.JS))
  })

  describe('in a copy of convex/', () => {
    let dir: string | undefined

    afterEach(() => {
      if (dir) rmSync(dir, { recursive: true, force: true })
      dir = undefined
    })

    it('finds a new module, and skips what the CLI skips', () => {
      dir = mkdtempSync(join(tmpdir(), 'owlat-convex-'))
      cpSync(CONVEX_DIR, dir, { recursive: true })
      expect(staleConvexFiles(dir)).toEqual([])
      writeFileSync(join(dir, 'health.ts'), 'export const x = 1\n')
      for (const skipped of ['runs.test.ts', '.hidden.ts', '#runs.ts#', 'notes.md', 'empty.ts']) writeFileSync(join(dir, skipped), skipped === 'empty.ts' ? '// nothing\n' : 'export {}\n')
      expect(staleConvexFiles(dir)).toEqual(['api.d.ts'])
      expect(convexModulePaths(dir)).toContain('health.ts')
      expect(convexModulePaths(dir)).toHaveLength(convexModulePaths().length + 1)
    })
  })

  it('passes the script\'s --check', () => {
    expect(() => execFileSync(process.execPath, ['--import', 'tsx', 'scripts/convex-codegen.ts', '--check'], { stdio: 'pipe' })).not.toThrow()
  })
})
