#!/usr/bin/env node
// Runs the compiled CLI (dist/cli.mjs, `npm run build:tools`, which `npm start` keeps current) when
// it is newer than every source it was built from; otherwise registers tsx and runs the sources.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const bundle = join(root, 'dist', 'cli.mjs')

function newestSource() {
  let newest = 0
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else newest = Math.max(newest, statSync(path).mtimeMs)
    }
  }
  for (const dir of ['cli', 'shared', 'sidecar', 'server/utils']) walk(join(root, dir))
  return newest
}

if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource()) {
  await import(bundle)
}
else {
  const { register } = await import('tsx/esm/api')
  register()
  const { run } = await import('./main.ts')
  await run()
}
