/**
 * Test images for the real-engine suite, made without any download: a rootfs holding the host's
 * static busybox, imported with `docker import` (one per version) and pushed to the registry on
 * 127.0.0.1:5000 that `scripts/setup-docker.sh` runs.
 * - `owlat/web:V`: busybox httpd on the container's own loopback serving `/api/healthz` and
 *   `/api/system/version`; its healthcheck fetches `/api/healthz`. A version whose tag contains
 *   `broken` has no `/api/healthz`, so its healthcheck never passes; one whose tag contains
 *   `fading` removes its `/api/healthz` `FADE_AFTER_S` seconds after it starts (healthy first, then not).
 * - `owlat/store:V`: a stand-in for a stateful service (Redis, Convex) that keeps a named volume.
 * - `owlat/updater:V`: a sleeper standing in for the updater's own service. Its `docker-compose`
 *   is a script that records the arguments it was called with in `/data/self-update-args`, so a
 *   test sees what the self-update helper ran, from which image, with which mounts.
 * Every image carries `/version` (the tag), which `verify` reads in exec mode, and `/bin/lb-forward`
 * (see LB_FORWARD) for the Swarm suite's stand-in load balancer.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'

export const REGISTRY = '127.0.0.1:5000'
export const webImage = (version: string) => `${REGISTRY}/owlat/web:${version}`
export const storeImage = (version: string) => `${REGISTRY}/owlat/store:${version}`
export const updaterImage = (version: string) => `${REGISTRY}/owlat/updater:${version}`

const APPLETS = ['sh', 'httpd', 'wget', 'cat', 'sleep', 'test', 'find', 'true', 'echo', 'mkdir', 'ls', 'rm', 'tar', 'nc']
const WEB_PORT = 3000

/** When a `fading` web stops being healthy: after verify saw it healthy, inside the watch window. */
export const FADE_AFTER_S = 6

const RECORDING_COMPOSE = '#!/bin/sh\necho "$(cat /version) $*" > /data/self-update-args\n'

/**
 * A load balancer's forwarding, for the Swarm suite: `nc -ll -p PORT -e /bin/lb-forward` hands each
 * connection to whichever task of `web` the swarm's DNS names first (`endpoint_mode: dnsrr`).
 */
const LB_FORWARD = '#!/bin/sh\nexec nc web 3000\n'

function rootfs(version: string, healthy: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'owlat-rootfs-'))
  mkdirSync(join(dir, 'bin'))
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'))
  for (const applet of APPLETS) symlinkSync('busybox', join(dir, 'bin', applet))
  mkdirSync(join(dir, 'tmp'))
  mkdirSync(join(dir, 'data'))
  mkdirSync(join(dir, 'www', 'api', 'system'), { recursive: true })
  writeFileSync(join(dir, 'version'), `${version}\n`)
  writeFileSync(join(dir, 'www', 'api', 'system', 'version'), JSON.stringify({ version, buildId: `test-${version}` }))
  if (healthy) writeFileSync(join(dir, 'www', 'api', 'healthz'), 'ok\n')
  writeFileSync(join(dir, 'bin', 'docker-compose'), RECORDING_COMPOSE, { mode: 0o755 })
  writeFileSync(join(dir, 'bin', 'lb-forward'), LB_FORWARD, { mode: 0o755 })
  return dir
}

async function importImage(dir: string, ref: string, changes: string[]): Promise<void> {
  const tar = `${dir}.tar`
  await execa('tar', ['-C', dir, '-cf', tar, '.'])
  try {
    await execa('docker', ['import', ...changes.flatMap(c => ['--change', c]), tar, ref])
  }
  finally {
    rmSync(tar, { force: true })
  }
}

/** Builds and pushes `web:V`, `store:V` and `updater:V`; `pushWeb: false` leaves web:V out of the registry (and the engine). */
export async function buildVersion(version: string, opts: { pushWeb?: boolean } = {}): Promise<void> {
  const healthy = !version.includes('broken')
  const dir = rootfs(version, healthy)
  try {
    const httpd = `httpd -f -p 127.0.0.1:${WEB_PORT} -h /www`
    await importImage(dir, webImage(version), [
      version.includes('fading')
        ? `CMD ["sh", "-c", "(sleep ${FADE_AFTER_S}; rm /www/api/healthz) & exec ${httpd}"]`
        : `CMD ["httpd", "-f", "-p", "127.0.0.1:${WEB_PORT}", "-h", "/www"]`,
      `HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${WEB_PORT}/api/healthz"]`,
    ])
    for (const ref of [storeImage(version), updaterImage(version)]) {
      await importImage(dir, ref, [
        'CMD ["sleep", "1000000"]',
        'HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD ["test", "-d", "/data"]',
      ])
    }
  }
  finally {
    rmSync(dir, { recursive: true, force: true })
  }
  await execa('docker', ['push', storeImage(version)])
  await execa('docker', ['push', updaterImage(version)])
  if (opts.pushWeb !== false) await execa('docker', ['push', webImage(version)])
  // Jobs must pull from the registry, not find the image already built here (-f: untag even if
  // a container left by an interrupted run still uses it).
  await execa('docker', ['rmi', '-f', webImage(version), storeImage(version), updaterImage(version)])
}
