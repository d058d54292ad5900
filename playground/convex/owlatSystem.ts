// The functions the web server calls (`owlatSystem:query`, `owlatSystem:mutation`), as a host adds them.
import { exposeOwlatSystem } from '../../convex/expose'
import { components } from './_generated/api'

export const { query, mutation } = exposeOwlatSystem(components.owlatSystem)
