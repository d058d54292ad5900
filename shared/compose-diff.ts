/**
 * The plan's `composeDiff`: a unified diff of the running compose file against the target's, with
 * the values that look like secrets masked first (by their key, as the bug-report bundle masks
 * them, and any long random-looking token that is not an image digest), so the dialog can show
 * it to every admin and it can be pasted into an issue.
 */
import { createTwoFilesPatch } from 'diff'
import { MASKED_KEY } from './node/checks/secrets'

export const MASK = '••••••••'

/** `KEY: value`, `KEY=value`, `- KEY=value`, with the key captured. */
const KEY_VALUE = /^(\s*(?:-\s+)?["']?)([A-Za-z_][\w.-]*)(["']?\s*(?::\s+|=))(.*)$/
/** Long runs of key-like characters: generated secrets, tokens, keys. */
const TOKEN = /[\w+/=-]{32,}/g

function maskTokens(text: string): string {
  return text.replace(TOKEN, (token, offset: number, whole: string) => {
    // Image digests and the hex they carry are what pins a release, not secrets.
    if (/sha256:$/.test(whole.slice(Math.max(0, offset - 7), offset))) return token
    // Letters only (a long word, a path segment) are no secret.
    if (!/\d/.test(token) || !/[a-z]/i.test(token)) return token
    return MASK
  })
}

/** The compose text with secret-looking values replaced by `MASK`, line by line. */
export function maskComposeSecrets(text: string): string {
  return text.split('\n').map((line) => {
    const m = KEY_VALUE.exec(line)
    if (m && MASKED_KEY.test(m[2]!) && m[4]!.trim() !== '' && !/^[|>]/.test(m[4]!.trim())) return `${m[1]}${m[2]}${m[3]}${MASK}`
    return maskTokens(line)
  }).join('\n')
}

/** Unified diff from `from` to `to` (either may be null: no file), both masked; empty when they are equal. */
export function composeDiff(from: { name: string, text: string | null }, to: { name: string, text: string | null }): string {
  const a = from.text === null ? '' : maskComposeSecrets(from.text)
  const b = to.text === null ? '' : maskComposeSecrets(to.text)
  if (a === b) return ''
  return createTwoFilesPatch(from.text === null ? '/dev/null' : from.name, to.text === null ? '/dev/null' : to.name, a, b, undefined, undefined, { context: 3 })
}
