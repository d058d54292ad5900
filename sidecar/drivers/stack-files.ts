/**
 * The compose file moves every driver makes the same way: stage the new file beside the current
 * one, promote it (keeping the previous one), and put the previous one back. Each move is atomic
 * and safe to repeat, because a job resumed after a restart may run it twice.
 */
import { chmodSync, copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { parseCompose, readCompose } from '../compose-file'
import type { StepContext } from './types'

export interface StackFiles {
  /** The compose file the stack runs. */
  current: string
  /** The staged file of the version being installed. */
  next: string
  /** The file the stack ran before the last promote. */
  prev: string
  /** The files' mode, when they live in a private folder (the local driver's, in the data dir). */
  mode?: number
}

/** Write-then-rename, so a reader (or a crash) never sees half a file; `mode` whatever the umask. */
export function writeAtomic(path: string, text: string | Uint8Array, mode?: number): void {
  const tmp = `${path}.tmp`
  writeFileSync(tmp, text, mode === undefined ? undefined : { mode })
  if (mode !== undefined) chmodSync(tmp, mode)
  renameSync(tmp, path)
}

export function stageCompose(files: StackFiles, ctx: StepContext): void {
  const next = parseCompose(ctx.compose)
  writeAtomic(files.next, ctx.compose, files.mode)
  ctx.log(`wrote ${files.next} (web ${next.version}, ${next.image})`)
}

export function promoteCompose(files: StackFiles, ctx: StepContext): void {
  const { current, next, prev } = files
  if (!existsSync(next)) {
    // A resumed job: promote already ran if the current file is the staged one.
    if (readFileSync(current, 'utf8') === ctx.compose) {
      ctx.log(`already promoted: ${current} pins web ${ctx.toVersion}`)
      return
    }
    throw new Error(`nothing staged: ${next} is missing`)
  }
  // Copy (not move) the current file aside, so a current compose file exists at every instant.
  copyFileSync(current, `${prev}.tmp`)
  renameSync(`${prev}.tmp`, prev)
  renameSync(next, current)
  ctx.log(`kept the previous compose file as ${prev}`)
  ctx.log(`promoted ${next} to ${current} (web ${readCompose(current).version})`)
}

export function restoreCompose(files: StackFiles, ctx: StepContext): void {
  const { current, prev } = files
  const previous = existsSync(prev) ? readCompose(prev) : null
  // Only a previous file of the version we came from counts: an older one is left from an earlier job.
  if (previous?.version === ctx.fromVersion) {
    renameSync(prev, current)
    ctx.log(`restored ${current} from ${prev} (web ${previous.version})`)
  }
  else if (readCompose(current).version === ctx.fromVersion) {
    ctx.log(`already restored: ${current} pins web ${ctx.fromVersion}`)
  }
  else {
    throw new Error(`cannot restore ${ctx.fromVersion}: ${prev} ${previous ? `pins ${previous.version}` : 'is missing'}`)
  }
}
