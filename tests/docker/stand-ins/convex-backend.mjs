/**
 * Stand-in for the self-hosted Convex backend (ghcr.io/get-convex/convex-backend cannot be pulled
 * here). It answers what the stack asks of the real one: `GET /version` (the compose healthcheck),
 * `GET /instance_name`, and the push protocol `npx convex deploy` speaks (get_config_hashes,
 * start_push, wait_for_schema, finish_push). It runs no functions: every finished push is
 * appended to `<data>/pushes.jsonl` (modules, their hashes, the deploy message), so a test sees
 * which release's functions were deployed and when. Requests need `Authorization: Convex <key>`
 * with the key `generate_admin_key.sh` printed.
 */
import { createHash } from 'node:crypto'
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'

const DATA_DIR = process.env.CONVEX_DATA_DIR || '/convex/data'
const PORT = Number(process.env.CONVEX_PORT || 3210)
const INSTANCE_NAME = process.env.INSTANCE_NAME || 'owlat'
const SECRET = process.env.INSTANCE_SECRET || ''
const VERSION = 'owlat-stand-in'

mkdirSync(DATA_DIR, { recursive: true })
const PUSHES = join(DATA_DIR, 'pushes.jsonl')
const STATE = join(DATA_DIR, 'modules.json')

/** The admin key the real backend derives from its instance name and secret; stable per instance. */
export function adminKey() {
  return `${INSTANCE_NAME}|${createHash('sha256').update(`${INSTANCE_NAME}.${SECRET}`).digest('hex')}`
}

if (process.argv[2] === 'generate-admin-key') {
  process.stdout.write(`Admin key:\n${adminKey()}\n`)
  process.exit(0)
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      let body = Buffer.concat(chunks)
      const encoding = req.headers['content-encoding']
      if (encoding === 'br') body = brotliDecompressSync(body)
      else if (encoding === 'gzip') body = gunzipSync(body)
      resolve(body.length ? JSON.parse(body.toString('utf8')) : {})
    })
    req.on('error', reject)
  })
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

function modules() {
  return existsSync(STATE) ? JSON.parse(readFileSync(STATE, 'utf8')) : []
}

const hashOf = m => createHash('sha256').update(m.source).update(m.sourceMap || '').digest('hex')

/** Pushes started but not finished, by a token handed back in the start response. */
const pending = new Map()

const routes = {
  'GET /version': () => [200, VERSION],
  'GET /instance_name': () => [200, INSTANCE_NAME],
  'POST /api/get_config_hashes': () => [200, {
    config: { functions: 'convex/' },
    moduleHashes: modules().map(m => ({ path: m.path, environment: m.environment, hash: m.sha256 })),
    nodeDependencies: [],
    udfServerVersion: null,
  }],
  'POST /api/deploy2/start_push': (body) => {
    const app = body.appDefinition ?? {}
    const known = new Map(modules().map(m => [m.path, m]))
    const changed = (app.changedModules ?? []).map(m => ({ path: m.path, environment: m.environment, sha256: hashOf(m) }))
    const unchanged = (app.unchangedModuleHashes ?? []).map(m => known.get(m.path) ?? { path: m.path, environment: m.environment, sha256: m.sha256 })
    const token = createHash('sha256').update(`${Date.now()}.${Math.random()}`).digest('hex').slice(0, 16)
    pending.set(token, { modules: [...changed, ...unchanged].sort((a, b) => a.path.localeCompare(b.path)), schema: app.schema !== null && app.schema !== undefined, changed: changed.length })
    return [200, {
      environmentVariables: {},
      externalDepsId: null,
      componentDefinitionPackages: {},
      appAuth: [],
      analysis: {},
      app: { definitionPath: '', componentPath: '', args: {}, childComponents: {}, httpRoutes: { httpModuleRoutes: null, mounts: [] }, exports: {} },
      schemaChange: { allocatedComponentIds: { token }, schemaIds: {} },
    }]
  },
  // A preview of the push (index changes); the stand-in keeps no tables, so nothing changes.
  'POST /api/deploy2/evaluate_push': () => [200, { schemaChange: { allocatedComponentIds: null, schemaIds: null, indexDiffs: {} } }],
  'POST /api/deploy2/evaluate_schema': () => [404, { code: 'NotFound', message: 'not implemented by the stand-in' }],
  'POST /api/deploy2/wait_for_schema': () => [200, { type: 'complete' }],
  'POST /api/deploy2/finish_push': (body) => {
    const token = body.startPush?.schemaChange?.allocatedComponentIds?.token
    const push = pending.get(token)
    if (!push) return [400, { code: 'BadPush', message: 'finish_push without start_push' }]
    pending.delete(token)
    if (!body.dryRun) {
      writeFileSync(STATE, JSON.stringify(push.modules))
      appendFileSync(PUSHES, `${JSON.stringify({ at: new Date().toISOString(), message: body.message ?? null, modules: push.modules.map(m => m.path), changed: push.changed, schema: push.schema })}\n`)
    }
    return [200, { authDiff: { added: [], removed: [] }, definitionDiffs: {}, componentDiffs: {} }]
  },
  'POST /api/deploy2/report_push_completed': () => [200, {}],
}

createServer(async (req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname
  const route = routes[`${req.method} ${path}`]
  if (!route) return send(res, 404, { code: 'NotFound', message: `${req.method} ${path}` })
  if (path.startsWith('/api/') && req.headers.authorization !== `Convex ${adminKey()}`) {
    return send(res, 401, { code: 'BadAdminKey', message: 'the admin key is not valid for this instance' })
  }
  try {
    const [status, body] = route(await readBody(req))
    if (typeof body === 'string') {
      res.writeHead(status, { 'content-type': 'text/plain' })
      return res.end(body)
    }
    send(res, status, body)
  }
  catch (err) {
    send(res, 500, { code: 'InternalServerError', message: err.message })
  }
}).listen(PORT, '0.0.0.0', () => console.log(`convex stand-in listening on :${PORT}, data in ${DATA_DIR}`))

// As pid 1 nothing ends it on SIGTERM by default: without this every stop waits out the grace period.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
