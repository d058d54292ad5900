/**
 * Vitest global setup: every temp dir the suites make (data dirs, journals, stacks) goes under one
 * folder per run, removed at the end, instead of piling up in the system's /tmp.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'owlat-tests-'))
  // Workers are forked after this runs, so they inherit it and os.tmpdir() answers it.
  process.env.TMPDIR = dir
  return () => {
    if (process.env.OWLAT_KEEP_TEST_TMP !== '1') rmSync(dir, { recursive: true, force: true })
  }
}
