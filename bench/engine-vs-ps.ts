/**
 * How long it takes to read the stack's state through the Engine API (what the compose driver
 * does: list by compose label + inspect each container) versus a `compose ps` subprocess, on the
 * same running stack. Needs the engine and registry of `scripts/setup-docker.sh`.
 *
 *   node --import tsx bench/engine-vs-ps.ts [runs]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { execa } from 'execa'
import { detectCompose } from '../sidecar/drivers/compose-cli'
import { connectEngine, projectContainers } from '../sidecar/drivers/docker-engine'
import { buildVersion } from '../tests/docker/images'
import { stackCompose } from '../tests/docker/stack'

const runs = Number(process.argv[2] ?? 20)
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write('usage: node --import tsx bench/engine-vs-ps.ts [runs ≥ 1]\n')
  process.exit(2)
}

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  await fn() // warm-up: first connection, page cache
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await fn()
    samples.push(performance.now() - start)
  }
  return samples.sort((a, b) => a - b)
}

const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
const ms = (x: number) => `${x.toFixed(1)} ms`

const docker = connectEngine()
const compose = await detectCompose(process.env.OWLAT_COMPOSE_CMD)
const dir = mkdtempSync(join(tmpdir(), 'owlatbench'))
const project = dir.slice(dir.lastIndexOf('/') + 1).toLowerCase()
const file = join(dir, 'docker-compose.yml')
const [bin, ...prefix] = compose.argv
const base = [...prefix, '-p', project, '--project-directory', dir, '-f', file]

try {
  await buildVersion('1.0.0')
  writeFileSync(file, stackCompose('1.0.0'))
  await execa(bin!, [...base, 'up', '-d'])
  const engine = await time(() => projectContainers(docker, project))
  const services = (await projectContainers(docker, project)).length
  const ps = await time(() => execa(bin!, [...base, 'ps']))
  const label = `${compose.argv.join(' ')} ps`
  process.stdout.write([
    `stack: ${services} running services (project ${project}), engine API vs ${label} (${compose.version}), ${runs} runs each`,
    `Engine API (list by label + inspect): median ${ms(median(engine))}, mean ${ms(mean(engine))}`,
    `${label} subprocess: median ${ms(median(ps))}, mean ${ms(mean(ps))}`,
    `ratio (${label} / Engine API, medians): ${(median(ps) / median(engine)).toFixed(1)}×`,
    '',
  ].join('\n'))
}
finally {
  await execa(bin!, [...base, 'down', '-v', '-t', '1'], { reject: false })
  rmSync(dir, { recursive: true, force: true })
}
