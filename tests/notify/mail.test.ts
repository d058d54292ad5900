/**
 * Issue 17, email: OWLAT_SMTP_URL and OWLAT_SMTP_FROM, and mails sent with nodemailer to a real
 * SMTP server on loopback (smtp-server, port 0), parsed back with mailparser.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createNotification } from '../../shared/notifications'
import { FALLBACK_SMTP_FROM, mailConfigFromEnv, parseMailFrom, parseSmtpUrl, sendMail } from '../../shared/node/notify/mail'
import { startSmtpSink, type SmtpSink } from './receivers'

const bare = (id: string | undefined) => id?.replace(/^<|>$/g, '')
const instance = { name: 'Owlat Demo', url: 'http://127.0.0.1:3000', version: '1.2.2' }
const skipped = createNotification('auto-update-skipped', {
  version: '1.2.3', currentVersion: '1.2.2', reason: 'a check failed: <disk>',
  checks: [{ id: 'disk', status: 'fail', message: 'only 1 GB free & falling' }],
}, { instance })

describe('OWLAT_SMTP_URL and OWLAT_SMTP_FROM', () => {
  it('takes smtp:// and smtps:// with a host', () => {
    expect(parseSmtpUrl(' smtp://127.0.0.1:2525 ')).toBe('smtp://127.0.0.1:2525')
    expect(parseSmtpUrl('smtps://user%40example.com:pw@mail.example.com')).toBe('smtps://user%40example.com:pw@mail.example.com')
  })

  it('refuses one without a host, or of another scheme, without echoing the password', () => {
    expect(() => parseSmtpUrl('smtp://')).toThrow('OWLAT_SMTP_URL has no host')
    expect(() => parseSmtpUrl('smtp://user:hunter2@')).toThrow('OWLAT_SMTP_URL has no host')
    expect(() => parseSmtpUrl('http://mail.example.com')).toThrow('OWLAT_SMTP_URL must start with smtp:// or smtps:// (not http://)')
    expect(() => parseSmtpUrl('user:hunter2 at mail')).toThrow('OWLAT_SMTP_URL must start with smtp:// or smtps://')
    expect(() => parseSmtpUrl('mail.example.com:587')).toThrow('OWLAT_SMTP_URL must start with smtp:// or smtps://')
    expect(() => parseSmtpUrl('hunter2 and spaces')).toThrow(/^OWLAT_SMTP_URL is not a URL such as/)
    for (const bad of ['smtp://user:hunter2@', 'user:hunter2 at mail', 'imap://u:hunter2@mail.example.com']) {
      try {
        parseSmtpUrl(bad)
      }
      catch (err) {
        expect(String(err)).not.toContain('hunter2')
      }
    }
  })

  it('unset: null; the sender defaults to the SMTP user when it is an address', () => {
    expect(mailConfigFromEnv({})).toBeNull()
    expect(mailConfigFromEnv({ OWLAT_SMTP_URL: ' ' })).toBeNull()
    expect(mailConfigFromEnv({ OWLAT_SMTP_URL: 'smtp://127.0.0.1:2525' })).toEqual({ url: 'smtp://127.0.0.1:2525', from: FALLBACK_SMTP_FROM })
    expect(mailConfigFromEnv({ OWLAT_SMTP_URL: 'smtps://ops%40example.com:pw@mail.example.com' })?.from).toBe('Owlat <ops@example.com>')
    expect(mailConfigFromEnv({ OWLAT_SMTP_URL: 'smtp://127.0.0.1', OWLAT_SMTP_FROM: 'Updates <updates@example.com>' })?.from).toBe('Updates <updates@example.com>')
    expect(() => mailConfigFromEnv({ OWLAT_SMTP_URL: 'smtp://' })).toThrow('OWLAT_SMTP_URL has no host')
    expect(() => mailConfigFromEnv({ OWLAT_SMTP_URL: 'smtp://127.0.0.1', OWLAT_SMTP_FROM: 'nobody' })).toThrow('OWLAT_SMTP_FROM must be one email address such as "Owlat <owlat@example.com>"')
    expect(() => parseMailFrom('a@example.com, b@example.com')).toThrow(/one email address/)
  })
})

describe('sendMail to a real SMTP server', () => {
  let sink: SmtpSink
  beforeEach(async () => {
    sink = await startSmtpSink()
  })
  afterEach(async () => {
    await sink.close()
  })

  it('delivers plain text and HTML, with a link to the page, from the configured sender', async () => {
    const sent = await sendMail(sink.url, ['admin@owlat.local', 'ops@owlat.local'], skipped, { from: 'Owlat <updates@owlat.local>' })
    expect(sent.accepted).toEqual(['admin@owlat.local', 'ops@owlat.local'])
    expect(sink.mails).toHaveLength(1)
    const [{ envelope, parsed }] = sink.mails as [typeof sink.mails[number]]
    expect(envelope).toEqual({ from: 'updates@owlat.local', to: ['admin@owlat.local', 'ops@owlat.local'] })
    expect(parsed.subject).toBe('[Owlat Demo] Automatic update to 1.2.3 skipped')
    expect(parsed.from?.value).toEqual([{ name: 'Owlat', address: 'updates@owlat.local' }])
    expect(parsed.text).toContain('Owlat Demo stays on 1.2.2: a check failed: <disk>')
    expect(parsed.text).toContain('- disk (fail): only 1 GB free & falling')
    expect(parsed.text).toContain('Open System & Updates: http://127.0.0.1:3000/settings/system')
    expect(parsed.html).toContain('<a href="http://127.0.0.1:3000/settings/system">Open System &amp; Updates</a>')
    expect(parsed.html).toContain('a check failed: &lt;disk&gt;')
    expect(parsed.html).toContain('<li>disk (fail): only 1 GB free &amp; falling</li>')
    expect(parsed.headers.get('x-owlat-notification-id')).toBe(skipped.id)
    expect(bare(parsed.messageId)).toBe(bare(sent.messageId))
  })

  it('sends the same Message-ID on a retry of the same notification to the same people', async () => {
    const first = await sendMail(sink.url, ['admin@owlat.local'], skipped)
    const again = await sendMail(sink.url, ['admin@owlat.local'], skipped)
    const other = await sendMail(sink.url, ['ops@owlat.local'], skipped)
    expect(again.messageId).toBe(first.messageId)
    expect(other.messageId).not.toBe(first.messageId)
    expect(sink.mails.map(m => bare(m.parsed.messageId))).toEqual([first, again, other].map(s => bare(s.messageId)))
    expect(sink.mails[0]!.envelope.from).toBe('owlat@localhost')
  })

  it('fails when the server refuses a recipient, so the outbox tries again', async () => {
    sink.refuse.add('gone@owlat.local')
    await expect(sendMail(sink.url, ['gone@owlat.local'], skipped)).rejects.toThrow(/gone@owlat\.local/)
    expect(sink.mails).toHaveLength(0)
  })

  it('fails when nothing listens, within the timeout', async () => {
    const { port } = sink
    await sink.close()
    sink = await startSmtpSink() // for afterEach; the old port is free now
    await expect(sendMail(`smtp://127.0.0.1:${port}`, ['admin@owlat.local'], skipped, { timeoutMs: 2_000 })).rejects.toThrow(/ECONNREFUSED|connect/i)
  })

  it('refuses no recipients and a bad URL before connecting', async () => {
    await expect(sendMail(sink.url, [], skipped)).rejects.toThrow('no recipients')
    await expect(sendMail('smtp://', ['a@b.c'], skipped)).rejects.toThrow('OWLAT_SMTP_URL has no host')
  })
})
