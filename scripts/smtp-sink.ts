/**
 * A mailbox on loopback: an SMTP server (smtp-server, no auth, no STARTTLS) that parses what it
 * gets with mailparser. The notification tests start it on a port the OS picks; `npm run
 * smtp-sink [-- --port N]` runs it for the README's demo and prints every mail it receives.
 */
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { defineCommand, runMain } from 'citty'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { z } from 'zod'

export interface ReceivedMail {
  envelope: { from: string | null, to: string[] }
  parsed: ParsedMail
}

export interface SmtpSink {
  url: string
  port: number
  mails: ReceivedMail[]
  /** Recipients the server refuses (550). */
  refuse: Set<string>
  close(): Promise<void>
}

export async function startSmtpSink(opts: { port?: number, onMail?: (mail: ReceivedMail) => void } = {}): Promise<SmtpSink> {
  const mails: ReceivedMail[] = []
  const refuse = new Set<string>()
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    logger: false,
    // A reverse DNS lookup of 127.0.0.1 only slows each mail down.
    disableReverseLookup: true,
    onRcptTo(address, _session, callback) {
      if (refuse.has(address.address)) {
        const err = Object.assign(new Error(`no such mailbox ${address.address}`), { responseCode: 550 })
        return callback(err)
      }
      callback()
    },
    onData(stream, session, callback) {
      simpleParser(stream).then((parsed) => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : null
        const mail = { envelope: { from, to: session.envelope.rcptTo.map(r => r.address) }, parsed }
        mails.push(mail)
        opts.onMail?.(mail)
        callback()
      }, callback)
    },
  })
  await new Promise<void>(resolve => server.listen(opts.port ?? 0, '127.0.0.1', () => resolve()))
  const port = (server.server.address() as AddressInfo).port
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    mails,
    refuse,
    close: () => new Promise<void>(resolve => server.close(() => resolve())),
  }
}

function printMail(mail: ReceivedMail): void {
  const { parsed, envelope } = mail
  const rule = '─'.repeat(72)
  process.stdout.write([
    rule,
    `From:    ${envelope.from ?? '(none)'}`,
    `To:      ${envelope.to.join(', ')}`,
    `Subject: ${parsed.subject ?? '(none)'}`,
    `Date:    ${parsed.date?.toISOString() ?? '(none)'}`,
    `Parts:   text${parsed.html ? ' + HTML' : ''}`,
    '',
    (parsed.text ?? '').trimEnd(),
    '',
  ].join('\n'))
}

const portSchema = z.coerce.number().int().min(0).max(65535)

const main = defineCommand({
  meta: { name: 'smtp-sink', description: 'An SMTP server on 127.0.0.1 that prints every mail it receives' },
  args: { port: { type: 'string', description: 'The port to listen on', default: '2525' } },
  async run({ args }) {
    const port = portSchema.safeParse(args.port)
    if (!port.success) throw new Error(`--port must be a port number (0-65535), not ${JSON.stringify(args.port)}`)
    const sink = await startSmtpSink({ port: port.data, onMail: printMail })
    process.stdout.write(`SMTP sink listening on ${sink.url}: start the web with OWLAT_SMTP_URL=${sink.url}\n`)
    const stop = () => void sink.close().then(() => process.exit(0))
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  },
})

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) void runMain(main)
