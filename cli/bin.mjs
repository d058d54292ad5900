#!/usr/bin/env node
// Registers tsx so the TypeScript sources run as they are: the CLI needs no build step.
import { register } from 'tsx/esm/api'

register()
const { run } = await import('./main.ts')
await run()
