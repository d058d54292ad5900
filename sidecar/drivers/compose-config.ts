/**
 * What compose will actually run: `compose config` renders a file the way `up` reads it (the
 * project's `.env` and the updater's environment interpolated, a same-file `extends` merged,
 * relative paths made absolute; the operator's docker-compose.override.yml left out, as the
 * policy judges the release), so the
 * compose driver's preflight judges that rendering with the same compose policy as the text.
 */
import { dirname } from 'node:path'
import { execa } from 'execa'
import type { ComposeCli } from './compose-cli'

/** Lines of compose's complaint kept for the error message. */
const ERROR_TAIL = 5
const CONFIG_TIMEOUT_MS = 60_000

/** The rendered model as YAML; throws with compose's own reason when it refuses the file. */
export async function renderComposeConfig(cli: ComposeCli, file: string, signal?: AbortSignal): Promise<string> {
  const [bin, ...prefix] = cli.command.argv
  // The operator's override is theirs to trust; the policy judges what the release asks for.
  const args = [...prefix, ...cli.baseArgs(file, [], { override: false }), 'config']
  const result = await execa(bin!, args, {
    cwd: dirname(file),
    reject: false,
    stdin: 'ignore',
    timeout: CONFIG_TIMEOUT_MS,
    cancelSignal: signal,
    env: { COMPOSE_ANSI: 'never', NO_COLOR: '1' },
  })
  if (result.isCanceled) throw new Error(`${cli.describe(['config'])} was cancelled`)
  if (result.exitCode !== 0) {
    const tail = String(result.stderr).split('\n').map(l => l.trim()).filter(Boolean).slice(-ERROR_TAIL)
    throw new Error(`${cli.describe(['config'])} exited with ${result.exitCode ?? result.signal}${tail.length ? `: ${tail.join(' | ')}` : ''}`)
  }
  return String(result.stdout)
}
