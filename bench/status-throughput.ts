/**
 * Figure: `GET /api/system/status` req/s ÷ `GET /api/healthz` req/s at 50 connections, and the
 * status route's p99, with autocannon against the running web, alternating the two routes
 * (healthz, status, healthz, status…) so both see the same machine.
 *
 *   node --import tsx bench/status-throughput.ts [rounds] [seconds]
 */
import autocannon from 'autocannon'
import { fmt, median, startBenchStack, type BenchStack } from './lib/stack'

interface Load { rps: number, p99: number, non2xx: number }

async function load(url: string, seconds: number, headers: Record<string, string> = {}): Promise<Load> {
  const result = await autocannon({ url, connections: 50, duration: seconds, headers })
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx + result.errors }
}

export async function benchStatusThroughput(stack: BenchStack, rounds: number, seconds: number) {
  const cookie = await stack.login()
  // Warm both routes first.
  await load(`${stack.web}/api/healthz`, 1)
  await load(`${stack.web}/api/system/status`, 1, { cookie })
  const healthz: Load[] = []
  const status: Load[] = []
  for (let i = 0; i < rounds; i++) {
    healthz.push(await load(`${stack.web}/api/healthz`, seconds))
    status.push(await load(`${stack.web}/api/system/status`, seconds, { cookie }))
  }
  const failed = [...healthz, ...status].reduce((n, l) => n + l.non2xx, 0)
  if (failed > 0) throw new Error(`${failed} requests did not answer 2xx`)
  return {
    healthzRps: healthz.map(l => l.rps),
    statusRps: status.map(l => l.rps),
    statusP99: status.map(l => l.p99),
    healthzP99: healthz.map(l => l.p99),
  }
}

if (import.meta.filename === process.argv[1]) {
  const stack = await startBenchStack()
  try {
    const r = await benchStatusThroughput(stack, Number(process.argv[2] ?? 3), Number(process.argv[3] ?? 5))
    console.log(`status ${median(r.statusRps).toFixed(0)} req/s ${fmt(r.statusRps)} ÷ healthz ${median(r.healthzRps).toFixed(0)} req/s ${fmt(r.healthzRps)} = ${(median(r.statusRps) / median(r.healthzRps)).toFixed(2)}; status p99 ${fmt(r.statusP99)} ms`)
  }
  finally {
    await stack.stop()
  }
}
