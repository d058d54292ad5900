/**
 * `npm run build:tools`: the updater sidecar, the `owlat` CLI and `npm start`'s launcher compiled
 * to plain JavaScript in dist/ (esbuild, as the updater image does), so they run without tsx:
 * less memory and a faster start. `npm start` runs it when the sources changed.
 */
import { join } from 'node:path'
import { bundleTools } from './images/prepare'

const out = join(import.meta.dirname, '..', 'dist')
await bundleTools(out, { start: true })
console.log(`› bundled the updater, the CLI and the launcher into ${out}`)
