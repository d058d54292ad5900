/**
 * `owlat bundle import FILE`: an offline release bundle (`npm run release:bundle`) handed to the
 * updater, which verifies every signature and sha256, loads the images and keeps the release; the
 * CLI then keeps the release in its release folder (the `directory` source), so `owlat upgrade`
 * offers it with no network. A refused bundle leaves nothing behind, here or in the updater.
 */
import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { defineCommand, type ArgsDef } from 'citty'
import { z } from 'zod'
import { keepBundledRelease } from '../../shared/node/release-bundle'
import { validateArgs } from '../args'
import { commandEnv } from '../context'
import { CliError } from '../errors'
import { printLine } from '../job-view'
import { asCliError } from '../sidecar'
import { formatBytes } from '../../shared/format-bytes'

const importArgs = {
  file: { type: 'positional', description: 'The bundle, e.g. owlat-1.4.0.bundle.tar', required: false },
} satisfies ArgsDef

const importSchema = z.object({
  file: z.string({ error: 'the bundle file is required' }).min(1, 'the bundle file is required'),
})

const importCommand = defineCommand({
  meta: { name: 'import', description: 'Import an offline release bundle: verify it, load its images, offer its release' },
  args: importArgs,
  async run(ctx) {
    const args = validateArgs(ctx, importArgs, importSchema)
    const file = resolve(args.file)
    if (!existsSync(file) || !statSync(file).isFile()) throw new CliError(`no such file: ${file}`)
    const env = commandEnv()
    // Checked first: an import the CLI then could not offer would only load images for nothing.
    if (env.config.releaseSource !== 'directory') {
      throw new CliError(`offline bundles need the directory release source: set OWLAT_RELEASE_SOURCE=directory (and OWLAT_RELEASE_DIR); it is ${env.config.releaseSource}`)
    }
    const size = statSync(file).size
    if (size > env.config.bundleMaxBytes) throw new CliError(`${file} is ${formatBytes(size)}, more than the limit of ${formatBytes(env.config.bundleMaxBytes)} (OWLAT_BUNDLE_MAX_BYTES)`)
    printLine(`Sending ${file} (${formatBytes(size)}) to the updater; it verifies every signature and sha256, then loads the images…`)
    const imported = await env.client().importBundle(file).catch((err: unknown) => {
      throw asCliError(err)
    })
    keepBundledRelease(env.config.releaseDir, imported)
    for (const image of imported.images) printLine(`✔ loaded ${image}`)
    printLine(`✔ release ${imported.version} verified and kept in ${env.config.releaseDir}`)
    if (imported.indexExpired) printLine(`! its release index has expired: an update to it needs the release-index-fresh check ignored with a reason`)
    printLine(`Install it with: owlat upgrade --version ${imported.version}`)
  },
})

export const bundleCommand = defineCommand({
  meta: { name: 'bundle', description: 'Offline release bundles for air-gapped installs' },
  subCommands: { import: importCommand },
})
