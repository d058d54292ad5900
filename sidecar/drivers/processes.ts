/** Process and port helpers for the local driver (Linux-first, portable fallbacks). */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

const POLL_MS = 100

function procStat(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8')
  }
  catch {
    return null
  }
}

/**
 * Whether `pid` is a live process. A zombie counts as dead: a SIGKILLed sidecar's child may be
 * reparented to an init that never reaps it, and `kill(pid, 0)` still succeeds on it.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  }
  catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  const stat = procStat(pid)
  // Field 3 follows the parenthesised command name, which may itself contain spaces.
  const state = stat?.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
  return state !== 'Z' && state !== 'X'
}

/**
 * Whether a live `pid` runs `entry`, so a recycled pid from a stale pid file is never killed.
 * Without procfs (not Linux) the pid file is trusted.
 */
export function runsEntry(pid: number, entry: string): boolean {
  if (!isAlive(pid)) return false
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(entry)
  }
  catch {
    return procStat(pid) === null
  }
}

/** Resolves true once `pid` is gone, false if it is still alive after `timeoutMs`. */
export async function waitForDeath(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false
    await sleep(POLL_MS)
  }
  return true
}

/** SIGTERM, then SIGKILL after `graceMs`. Returns the signal that ended it. */
export async function terminate(pid: number, graceMs: number): Promise<'SIGTERM' | 'SIGKILL'> {
  try {
    process.kill(pid, 'SIGTERM')
  }
  catch {
    return 'SIGTERM'
  }
  if (await waitForDeath(pid, graceMs)) return 'SIGTERM'
  try {
    process.kill(pid, 'SIGKILL')
  }
  catch {
    // It died between the check and the kill.
  }
  await waitForDeath(pid, graceMs)
  return 'SIGKILL'
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/** Waits until nothing listens on `host:port`; throws after `timeoutMs`. */
export async function waitPortFree(port: number, host: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await canBind(port, host))) {
    if (Date.now() >= deadline) throw new Error(`port ${host}:${port} is still in use by another process`)
    await sleep(POLL_MS)
  }
}
