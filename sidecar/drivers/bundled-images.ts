/**
 * Images an offline release bundle loaded (sidecar/release-bundles.ts). A release pins each image
 * by its registry digest, which `docker load` cannot give back: the engine keeps a digest only
 * for what it pulled. So each pinned reference whose registry manifest a verified bundle proved
 * is mapped here to the image ID that manifest names (the sha256 of the image's config, which the
 * engine checks on load). Compose then runs that ID through an override written beside the file
 * it acts on, and pulls only the images the map leaves out.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { z } from 'zod'
import { parseComposeModel } from './compose-project'
import { writeAtomic } from './stack-files'

/** The map's file, in the updater's own folder of the data dir. */
export const BUNDLED_IMAGES_FILE = 'bundled-images.json'

const imageMapSchema = z.record(z.string().min(1), z.string().regex(/^sha256:[a-f0-9]{64}$/))

export type BundledImages = ReadonlyMap<string, string>

/** The map kept in `file`; empty when there is none (no bundle was ever imported). */
export function readBundledImages(file: string): Map<string, string> {
  if (!existsSync(file)) return new Map()
  return new Map(Object.entries(imageMapSchema.parse(JSON.parse(readFileSync(file, 'utf8')))))
}

/** Adds what a bundle proved; an earlier entry for the same reference is replaced. */
export function recordBundledImages(file: string, entries: ReadonlyArray<{ ref: string, imageId: string }>): void {
  const map = readBundledImages(file)
  for (const { ref, imageId } of entries) map.set(ref, imageId)
  writeAtomic(file, `${JSON.stringify(Object.fromEntries(map), null, 2)}\n`, 0o600)
}

/** The image to hand the engine for a pinned reference: the bundled image's ID, or the reference itself. */
export function runnableImage(ref: string, images: BundledImages): string {
  return images.get(ref) ?? ref
}

/** Services of a compose file whose pinned image a bundle loaded, with the ID each runs. */
export function bundledServices(composeFile: string, images: BundledImages): Map<string, string> {
  const out = new Map<string, string>()
  if (images.size === 0 || !existsSync(composeFile)) return out
  for (const [service, spec] of parseComposeModel(readFileSync(composeFile, 'utf8')).services) {
    const id = spec.image ? images.get(spec.image) : undefined
    if (id) out.set(service, id)
  }
  return out
}

/** Services of a compose file with an image no bundle loaded: what `pull` still fetches. */
export function servicesToPull(composeFile: string, images: BundledImages): string[] {
  return [...parseComposeModel(readFileSync(composeFile, 'utf8')).services]
    .filter(([, spec]) => spec.image && !images.has(spec.image))
    .map(([service]) => service)
}

/**
 * `-f` arguments for the override that runs each bundled service from its loaded image, written
 * beside `composeFile` (`FILE.bundled-images.yml`, where a helper container that mounts the
 * project folder sees it too); none, and no stale file, when no service of the file is bundled.
 */
export function bundledOverrideArgs(composeFile: string, images: BundledImages): string[] {
  const path = `${composeFile}.bundled-images.yml`
  const services = bundledServices(composeFile, images)
  if (services.size === 0) {
    rmSync(path, { force: true })
    return []
  }
  const lines = ['# Written by the owlat updater: images loaded from a verified offline release bundle.', 'services:']
  for (const [service, id] of services) lines.push(`  ${JSON.stringify(service)}:`, `    image: ${JSON.stringify(id)}`)
  writeAtomic(path, `${lines.join('\n')}\n`)
  return ['-f', path]
}
