/**
 * The map of images offline bundles loaded, and what compose is told from it: an override running
 * each bundled service from its image ID, and `pull` asking only for the rest.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { bundledOverrideArgs, readBundledImages, recordBundledImages, runnableImage, servicesToPull } from '../../../sidecar/drivers/bundled-images'

const WEB = `127.0.0.1:5999/owlat/web:1.4.0@sha256:${'a'.repeat(64)}`
const STORE = `127.0.0.1:5999/owlat/store:1.4.0@sha256:${'b'.repeat(64)}`
const WEB_ID = `sha256:${'1'.repeat(64)}`

describe('bundled images', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owlat-bundled-images-'))
  const map = join(dir, 'bundled-images.json')
  const compose = join(dir, 'docker-compose.yml')
  writeFileSync(compose, `services:\n  web:\n    image: ${WEB}\n  store:\n    image: ${STORE}\n  worker:\n    image: ${WEB}\n    profiles: [deploy]\n`)

  it('keeps what bundles proved, and refuses a map whose IDs are not image IDs', () => {
    expect(readBundledImages(map).size).toBe(0)
    recordBundledImages(map, [{ ref: WEB, imageId: WEB_ID }])
    expect(readBundledImages(map)).toEqual(new Map([[WEB, WEB_ID]]))
    expect(runnableImage(WEB, readBundledImages(map))).toBe(WEB_ID)
    expect(runnableImage(STORE, readBundledImages(map))).toBe(STORE)
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ [WEB]: 'latest' }))
    expect(() => readBundledImages(join(dir, 'bad.json'))).toThrow()
  })

  it('overrides only the services whose pinned image a bundle loaded, and pulls the rest', () => {
    const images = readBundledImages(map)
    const args = bundledOverrideArgs(compose, images)
    expect(args).toEqual(['-f', `${compose}.bundled-images.yml`])
    expect(readFileSync(`${compose}.bundled-images.yml`, 'utf8')).toBe(`# Written by the owlat updater: images loaded from a verified offline release bundle.\nservices:\n  "web":\n    image: "${WEB_ID}"\n  "worker":\n    image: "${WEB_ID}"\n`)
    expect(servicesToPull(compose, images)).toEqual(['store'])
    // A file none of whose images came in a bundle gets no override, and loses a stale one.
    expect(bundledOverrideArgs(compose, new Map())).toEqual([])
    expect(existsSync(`${compose}.bundled-images.yml`)).toBe(false)
  })
})
