/**
 * Real receivers on loopback for the notification tests, each on a port the OS picks: the SMTP
 * sink the README's demo runs too (scripts/smtp-sink.ts), and an HTTP webhook receiver
 * (node:http) that checks every signature against the raw body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { verifyWebhookSignature } from '../../shared/node/notify/webhooks'

export { startSmtpSink, type ReceivedMail, type SmtpSink } from '../../scripts/smtp-sink'

export interface ReceivedHook {
  path: string
  headers: IncomingMessage['headers']
  rawBody: string
  body: unknown
  signatureValid: boolean
  /** The status the receiver answered. */
  status: number
}

export interface WebhookReceiver {
  url: string
  server: Server
  received: ReceivedHook[]
  /** Statuses to answer, one per request in order; 200 once used up. */
  answers: number[]
  /** Replaces the default handling (answers, then 200) for special cases. */
  handler: ((req: IncomingMessage, res: ServerResponse, hook: ReceivedHook) => void) | null
  close(): Promise<void>
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: '',
    server: null as unknown as Server,
    received: [],
    answers: [],
    handler: null,
    close: async () => {
      receiver.server.closeAllConnections()
      await new Promise<void>(resolve => receiver.server.close(() => resolve()))
    },
  }
  receiver.server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8')
      let body: unknown = null
      try {
        body = JSON.parse(rawBody)
      }
      catch {
        // kept as null: the test asserts on it
      }
      const signature = req.headers['x-owlat-webhook-signature']
      const hook: ReceivedHook = {
        path: req.url ?? '',
        headers: req.headers,
        rawBody,
        body,
        signatureValid: verifyWebhookSignature(rawBody, secret, Array.isArray(signature) ? signature[0] : signature),
        status: 0,
      }
      receiver.received.push(hook)
      if (receiver.handler) return receiver.handler(req, res, hook)
      // A receiver refuses what it cannot authenticate.
      hook.status = hook.signatureValid ? (receiver.answers.shift() ?? 200) : 401
      res.writeHead(hook.status, { 'Content-Type': 'text/plain' }).end(hook.status === 200 ? 'ok' : `no (${hook.status})`)
    })
  })
  await new Promise<void>(resolve => receiver.server.listen(0, '127.0.0.1', () => resolve()))
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hooks/owlat`
  return receiver
}
