/**
 * Issue 17, notifications: the record every channel sends, each admin's preference, the email's
 * words (escaped, with a link to the page) and the checks on the channels' addresses.
 */
import { describe, expect, it } from 'vitest'
import {
  createNotification, NOTIFICATION_EVENTS, notificationLink, notificationPreferenceSchema, notificationSchema, notificationText,
  smtpUrlProblem, webhookUrlProblem, webhookUrlSchema, wantsNotification, type Notification, type NotificationEvent,
} from '../../../shared/notifications'

const instance = { name: 'Owlat Prod', url: 'https://owlat.example.com', version: '1.2.2' }
const now = Date.parse('2026-01-07T12:00:00Z')

const samples: { [E in NotificationEvent]: Notification } = {
  'release-available': createNotification('release-available', { version: '1.3.0', currentVersion: '1.2.2', channel: 'stable', severity: 'normal' }, { instance, now, id: 'n-1' }),
  'security-release-available': createNotification('security-release-available', { version: '1.3.1', currentVersion: '1.2.2', channel: 'stable', severity: 'security' }, { instance, now, id: 'n-2' }),
  'update-started': createNotification('update-started', { runId: 'job-7', fromVersion: '1.2.2', toVersion: '1.3.1', via: 'schedule', requestedBy: null }, { instance, now, id: 'n-3' }),
  'update-succeeded': createNotification('update-succeeded', { runId: 'job-7', fromVersion: '1.2.2', toVersion: '1.3.1' }, { instance, now, id: 'n-4' }),
  'update-rolled-back': createNotification('update-rolled-back', { runId: 'job-8', fromVersion: '1.2.2', toVersion: '1.4.0', reason: 'web never became healthy' }, { instance, now, id: 'n-5' }),
  'update-failed': createNotification('update-failed', { runId: 'job-9', fromVersion: '1.2.2', toVersion: '1.4.0', reason: 'disk full' }, { instance, now, id: 'n-6' }),
  'auto-update-skipped': createNotification('auto-update-skipped', {
    version: '1.3.1', currentVersion: '1.2.2', reason: 'a check failed',
    checks: [{ id: 'disk', status: 'fail', message: 'only 1 GB free' }, { id: 'engine', status: 'ok', message: 'fine' }],
  }, { instance, now, id: 'n-7' }),
}

describe('notifications', () => {
  it('has the seven events, and one record shape that survives JSON (the webhook body)', () => {
    expect(NOTIFICATION_EVENTS).toEqual(['release-available', 'security-release-available', 'update-started', 'update-succeeded', 'update-rolled-back', 'update-failed', 'auto-update-skipped'])
    for (const n of Object.values(samples)) {
      expect(notificationSchema.parse(JSON.parse(JSON.stringify(n)))).toEqual(n)
      expect(Object.keys(n)).toEqual(['id', 'event', 'occurredAt', 'instance', 'data'])
    }
    expect(samples['update-started'].occurredAt).toBe('2026-01-07T12:00:00.000Z')
    expect(samples['update-started'].data.kind).toBe('update')
  })

  it('gives each new notification its own id', () => {
    const a = createNotification('update-succeeded', { runId: 'r', fromVersion: '1', toVersion: '2' }, { instance })
    const b = createNotification('update-succeeded', { runId: 'r', fromVersion: '1', toVersion: '2' }, { instance })
    expect(a.id).not.toBe(b.id)
  })

  it('refuses data of the wrong shape for its event, an unknown event, and a non-http instance URL', () => {
    // @ts-expect-error a rolled-back run says why
    expect(() => createNotification('update-rolled-back', { runId: 'r', fromVersion: '1.2.2', toVersion: '1.4.0' }, { instance })).toThrow()
    expect(notificationSchema.safeParse({ ...samples['update-failed'], event: 'update-exploded' }).success).toBe(false)
    expect(notificationSchema.safeParse({ ...samples['update-failed'], instance: { ...instance, url: 'javascript:alert(1)' } }).success).toBe(false)
    // Later senders may add fields to data; receivers keep working.
    expect(notificationSchema.parse({ ...samples['update-failed'], data: { ...samples['update-failed'].data, extra: 1 } }).data).toMatchObject({ extra: 1 })
  })
})

describe('wantsNotification', () => {
  it('all: everything; none: nothing; security: security releases and what needs an admin', () => {
    for (const event of NOTIFICATION_EVENTS) {
      expect(wantsNotification('all', event)).toBe(true)
      expect(wantsNotification('none', event)).toBe(false)
    }
    expect(NOTIFICATION_EVENTS.filter(e => wantsNotification('security', e))).toEqual(['security-release-available', 'update-rolled-back', 'update-failed', 'auto-update-skipped'])
  })

  it('a preference is one of the three', () => {
    expect(notificationPreferenceSchema.parse('security')).toBe('security')
    expect(notificationPreferenceSchema.safeParse('some').error?.issues[0]?.message).toBe('notifications must be all, security or none')
  })
})

describe('notificationText', () => {
  it('words each event, with the instance in the subject and a link to the page or the run', () => {
    const subjects = Object.fromEntries(Object.entries(samples).map(([event, n]) => [event, notificationText(n).subject]))
    expect(subjects).toEqual({
      'release-available': '[Owlat Prod] Owlat 1.3.0 is available',
      'security-release-available': '[Owlat Prod] Security release 1.3.1 is available',
      'update-started': '[Owlat Prod] Updating to 1.3.1',
      'update-succeeded': '[Owlat Prod] Updated to 1.3.1',
      'update-rolled-back': '[Owlat Prod] 1.4.0 failed and 1.2.2 was restored',
      'update-failed': '[Owlat Prod] Update to 1.4.0 failed',
      'auto-update-skipped': '[Owlat Prod] Automatic update to 1.3.1 skipped',
    })
    const started = notificationText(samples['update-started'])
    expect(started.text).toContain('as an automatic update')
    expect(started.text).toContain('Open System & Updates: https://owlat.example.com/settings/system/runs/job-7')
    expect(started.html).toContain('<a href="https://owlat.example.com/settings/system/runs/job-7">')
    const available = notificationText(samples['security-release-available'])
    expect(available.text).toContain('https://owlat.example.com/settings/system\n')
    expect(available.text).toContain('install it soon')
  })

  it('lists a skipped update\'s failing checks, not the passing ones', () => {
    const { text, html } = notificationText(samples['auto-update-skipped'])
    expect(text).toContain('- disk (fail): only 1 GB free')
    expect(text).not.toContain('engine')
    expect(html).toContain('<li>disk (fail): only 1 GB free</li>')
  })

  it('escapes every value in the HTML', () => {
    const evil = createNotification('update-failed', { runId: 'r"1', fromVersion: '1.2.2', toVersion: '1.4.0', reason: '<script>alert("x")</script> & more' }, {
      instance: { ...instance, name: 'A <b>bold</b> name' }, now,
    })
    const { html, text, subject } = notificationText(evil)
    expect(html).not.toContain('<script>')
    expect(html).not.toContain('<b>')
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more')
    expect(html).toContain('A &lt;b&gt;bold&lt;/b&gt; name')
    expect(html).toContain('href="https://owlat.example.com/settings/system/runs/r%221"')
    // The plain text stays as written.
    expect(text).toContain('<script>alert("x")</script> & more')
    expect(subject).toBe('[A <b>bold</b> name] Update to 1.4.0 failed')
  })

  it('keeps a base path and the host\'s page path; without an address it names the page instead', () => {
    const based = { ...samples['update-succeeded'], instance: { ...instance, url: 'https://example.com/admin/' } }
    expect(notificationLink(based, '/ops/system/')).toBe('https://example.com/admin/ops/system/runs/job-7')
    const nowhere = { ...samples['release-available'], instance: { ...instance, url: null } }
    expect(notificationLink(nowhere)).toBeNull()
    const { text, html } = notificationText(nowhere)
    expect(text).toContain('Open Settings → System & Updates to see more.')
    expect(html).not.toContain('<a ')
  })
})

describe('the channels\' addresses', () => {
  it('a webhook URL is http(s) with a host; the message never shows its path (often its secret)', () => {
    expect(webhookUrlProblem('https://hooks.example.com/T000/B000/XXXX')).toBeNull()
    expect(webhookUrlProblem('http://127.0.0.1:8080/hook')).toBeNull()
    expect(webhookUrlProblem('ftp://files.example.com/secret-token')).toBe('"ftp://files.example.com/…" is not an http(s) URL')
    expect(webhookUrlProblem('not a url')).toBe('"not a url" is not a URL')
    expect(webhookUrlSchema.safeParse('mailto:a@b.c').error?.issues[0]?.message).toBe('webhook URL "mailto:…" is not an http(s) URL')
  })

  it('an SMTP URL is smtp:// or smtps:// with a host, and is never echoed', () => {
    expect(smtpUrlProblem('smtp://user:pw@mail.example.com:587')).toBeNull()
    expect(smtpUrlProblem('smtps://mail.example.com')).toBeNull()
    expect(smtpUrlProblem('smtp://')).toBe('OWLAT_SMTP_URL has no host')
    expect(smtpUrlProblem('smtp://user:pw@')).toBe('OWLAT_SMTP_URL has no host')
    expect(smtpUrlProblem('https://mail.example.com')).toBe('OWLAT_SMTP_URL must start with smtp:// or smtps:// (not https://)')
    expect(smtpUrlProblem('hunter2 mail')).toBe('OWLAT_SMTP_URL is not a URL such as smtp://user:password@mail.example.com:587')
    expect(smtpUrlProblem('smtp://', 'smtpUrl')).toBe('smtpUrl has no host')
  })
})
