/** What most commands start from: the configuration and a signed client of the updater. */
import { hostname, userInfo } from 'node:os'
import { composePolicyOptionsFromEnv, type ComposePolicyOptions } from '../shared/compose-policy'
import type { OwlatConfig } from '../shared/config'
import type { RequestedBy } from '../shared/schemas/common'
import { instanceSecret, loadCliConfig } from './env'
import { SidecarClient } from '../shared/sidecar-client'

export interface CommandEnv {
  env: NodeJS.ProcessEnv
  config: OwlatConfig
  client: () => SidecarClient
  policy: ComposePolicyOptions
}

export function commandEnv(processEnv: NodeJS.ProcessEnv = process.env): CommandEnv {
  const { env, config } = loadCliConfig(processEnv)
  let client: SidecarClient | null = null
  return {
    env,
    config,
    // Lazy: commands that never talk to the updater must not fail for want of a secret.
    client: () => (client ??= new SidecarClient({ url: config.updaterUrl, secret: instanceSecret(config) })),
    // Release compose files are deployed in the project folder, so relative binds resolve there.
    policy: composePolicyOptionsFromEnv(env, config.owlatDir),
  }
}

/** Who runs the CLI, for the job's audit trail: `user@host`, or null when the OS will not say. */
export function cliRequester(): RequestedBy {
  let user: string | undefined
  try {
    user = userInfo().username
  }
  catch {
    user = process.env.USER ?? process.env.LOGNAME
  }
  return { email: user ? `${user}@${hostname()}`.slice(0, 320) : null, via: 'cli' }
}
