/** `owlat compose check FILE [--allow-image PREFIX]… [--allow-bind PATH]…` */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { defineCommand, type ArgsDef } from 'citty'
import { z } from 'zod'
import { checkComposePolicy, composePolicyOptionsFromEnv } from '../../shared/compose-policy'
import { validateArgs } from '../args'
import { cliEnvironment } from '../env'
import { CliError } from '../errors'
import { printLine } from '../job-view'

const checkArgs = {
  'file': { type: 'positional', description: 'Compose file to check', required: false },
  'allow-image': { type: 'string', description: 'Also allow images from this prefix (repeatable)', valueHint: 'PREFIX' },
  'allow-bind': { type: 'string', description: 'Also allow bind mounts under this host path (repeatable)', valueHint: 'PATH' },
} satisfies ArgsDef

const checkSchema = z.object({
  'file': z.string({ error: 'the compose file to check is required' }).min(1, 'the compose file to check is required'),
  'allow-image': z.array(z.string().regex(/^[a-z0-9][a-z0-9._\-/:]*$/, 'must be an image prefix such as ghcr.io/owlat/')),
  'allow-bind': z.array(z.string().min(1, 'must be a path')),
})

const checkCommand = defineCommand({
  meta: { name: 'check', description: 'Check a compose file against the updater\'s policy' },
  args: checkArgs,
  run(ctx) {
    const args = validateArgs(ctx, checkArgs, checkSchema, { repeatable: ['allow-image', 'allow-bind'] })
    const file = resolve(args.file)
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    }
    catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new CliError(code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file} (${code ?? 'error'})`)
    }
    // Compose resolves relative paths against the file's folder; so does the check.
    const options = composePolicyOptionsFromEnv(cliEnvironment(), dirname(file))
    const result = checkComposePolicy(text, {
      ...options,
      allowedImagePrefixes: [...options.allowedImagePrefixes ?? [], ...args['allow-image']],
      allowedBindPrefixes: [...options.allowedBindPrefixes ?? [], ...args['allow-bind']],
    })
    if (result.ok) {
      printLine('ok')
      return
    }
    for (const violation of result.violations) printLine(violation)
    throw new CliError(`${file} breaks the compose policy in ${result.violations.length} place(s)`)
  },
})

export const composeCommand = defineCommand({
  meta: { name: 'compose', description: 'Compose file tools' },
  subCommands: { check: checkCommand },
})
