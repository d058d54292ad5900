/**
 * `owlat release verify DIR VERSION`: offline verification of one release's artifacts, each
 * check reported on its own, so a maintainer or an air-gapped operator sees exactly what is off.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defineCommand, type ArgsDef } from 'citty'
import { z } from 'zod'
import { checkComposePolicy } from '../../shared/compose-policy'
import { artifactNames } from '../../shared/release-artifacts'
import { INDEX_FILE, INDEX_SIGNATURE_FILE, judgeAgainstIndex, verifyReleaseIndex } from '../../shared/release-index'
import { parseSha256File, sha256Hex, verifyManifestSignature } from '../../shared/release-verify'
import { versionSchema } from '../../shared/schemas/common'
import { releaseManifestSchema, type ReleaseManifest } from '../../shared/schemas/release'
import { validateArgs } from '../args'
import { commandEnv } from '../context'
import { releasePublicKeys } from '../env'
import { CliError } from '../errors'
import { printLine } from '../job-view'

const verifyArgs = {
  dir: { type: 'positional', description: 'Folder with the release artifacts', required: false },
  version: { type: 'positional', description: 'Version to verify, e.g. 1.3.0', required: false },
} satisfies ArgsDef

const verifySchema = z.object({
  dir: z.string({ error: 'the release folder is required' }).min(1, 'the release folder is required'),
  version: z.string({ error: 'the version to verify is required' }).pipe(versionSchema),
})

interface Check {
  name: string
  ok: boolean
  detail: string
}

function read(path: string): Buffer | null {
  try {
    return readFileSync(path)
  }
  catch {
    return null
  }
}

const verifyCommand = defineCommand({
  meta: { name: 'verify', description: 'Verify a release\'s signature, hashes and compose policy (offline)' },
  args: verifyArgs,
  run(ctx) {
    const args = validateArgs(ctx, verifyArgs, verifySchema)
    const dir = resolve(args.dir)
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`no such folder: ${dir}`)
    const env = commandEnv()
    const key = releasePublicKeys(env.config)
    const names = artifactNames(args.version)

    const manifestBytes = read(join(dir, names.manifest))
    const signature = read(join(dir, names.signature))?.toString('utf8') ?? null
    const composeBytes = read(join(dir, names.compose))
    const shaFile = read(join(dir, names.composeSha))?.toString('utf8') ?? null
    const missing = [[names.manifest, manifestBytes], [names.signature, signature], [names.compose, composeBytes], [names.composeSha, shaFile]]
      .filter(([, content]) => content === null).map(([name]) => name)
    if (missing.length > 0) throw new CliError(`release ${args.version} is incomplete in ${dir}: missing ${missing.join(', ')}`)

    const checks: Check[] = []
    const signed = verifyManifestSignature(manifestBytes!, signature!, key)
    checks.push({ name: 'signature', ok: signed, detail: signed ? `${names.manifest} is signed by a trusted release key` : `${names.signature} does not verify against any trusted release key` })

    // The publication's signed index must list this very manifest, unrevoked, and be unexpired.
    const indexBytes = read(join(dir, INDEX_FILE))
    const indexSignature = read(join(dir, INDEX_SIGNATURE_FILE))?.toString('utf8') ?? null
    if (!indexBytes || indexSignature === null) {
      checks.push({ name: 'index', ok: false, detail: `${INDEX_FILE} and ${INDEX_SIGNATURE_FILE} are missing: nothing vouches for this release` })
    }
    else {
      const verdict = verifyReleaseIndex({ bytes: indexBytes, signature: indexSignature }, { keys: key, highestSerial: null })
      const why = !verdict.ok
        ? verdict.reason
        : judgeAgainstIndex(verdict.index, args.version, sha256Hex(manifestBytes!)) ?? (verdict.expired ? `release information is stale since ${verdict.index.expiresAt} (index serial ${verdict.index.serial})` : null)
      checks.push({ name: 'index', ok: why === null, detail: why ?? `listed in the signed release index (serial ${verdict.ok ? verdict.index.serial : '?'}), valid until ${verdict.ok ? verdict.index.expiresAt : '?'}` })
    }

    let manifest: ReleaseManifest | null = null
    try {
      const parsed = releaseManifestSchema.safeParse(JSON.parse(manifestBytes!.toString('utf8')))
      if (parsed.success) manifest = parsed.data
      checks.push(parsed.success
        ? parsed.data.version === args.version
          ? { name: 'manifest', ok: true, detail: `valid manifest for ${args.version}` }
          : { name: 'manifest', ok: false, detail: `the manifest is for ${parsed.data.version}, not ${args.version}` }
        : { name: 'manifest', ok: false, detail: `malformed: ${parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}` })
    }
    catch {
      checks.push({ name: 'manifest', ok: false, detail: `${names.manifest} is not valid JSON` })
    }

    const actual = sha256Hex(composeBytes!)
    if (manifest) {
      const matches = manifest.compose.sha256 === actual && manifest.compose.file === names.compose
      checks.push({ name: 'manifest hash', ok: matches, detail: matches ? `${names.compose} matches the manifest's sha256` : `${names.compose} has sha256 ${actual}; the manifest says ${manifest.compose.sha256} for ${manifest.compose.file}` })
    }
    else {
      checks.push({ name: 'manifest hash', ok: false, detail: 'skipped: no valid manifest to compare with' })
    }

    const sha = parseSha256File(shaFile!)
    const shaOk = sha !== null && sha.sha256 === actual && sha.file === names.compose
    checks.push({ name: 'sha256 file', ok: shaOk, detail: sha === null ? `${names.composeSha} is not "<sha256>  <file>"` : shaOk ? `${names.composeSha} matches` : `${names.composeSha} says ${sha.sha256} for ${sha.file}; ${names.compose} has ${actual}` })

    const policy = checkComposePolicy(composeBytes!.toString('utf8'), env.policy)
    checks.push({ name: 'policy', ok: policy.ok, detail: policy.ok ? `${names.compose} passes the compose policy` : policy.violations.join('; ') })

    for (const check of checks) printLine(`${check.ok ? '✔' : '✖'} ${check.name.padEnd(13)} ${check.detail}`)
    const failed = checks.filter(c => !c.ok).map(c => c.name)
    if (failed.length > 0) throw new CliError(`release ${args.version} failed ${failed.length} check(s): ${failed.join(', ')}; do not install it`)
    printLine(`release ${args.version} verified`)
  },
})

export const releaseCommand = defineCommand({
  meta: { name: 'release', description: 'Release artifact tools' },
  subCommands: { verify: verifyCommand },
})
