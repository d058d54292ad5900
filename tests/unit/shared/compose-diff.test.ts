import { describe, expect, it } from 'vitest'
import { composeDiff, MASK, maskComposeSecrets } from '../../../shared/compose-diff'

const DIGEST = `sha256:${'a1'.repeat(32)}`

describe('maskComposeSecrets', () => {
  it('masks values whose key names a secret, in map and list form, and keeps the rest', () => {
    const text = [
      'services:',
      '  web:',
      `    image: ghcr.io/owlat/web:1.3.0@${DIGEST}`,
      '    environment:',
      '      OWLAT_INSTANCE_SECRET: 9f8e7d6c5b4a39281706f5e4d3c2b1a0',
      '      CONVEX_ADMIN_KEY: "owlat|abc"',
      '      NUXT_PUBLIC_SITE_URL: https://owlat.example.com',
      '  mta:',
      '    environment:',
      '      - SMTP_PASSWORD=hunter2',
      '      - LOG_LEVEL=info',
    ].join('\n')
    const masked = maskComposeSecrets(text)
    expect(masked).toContain(`      OWLAT_INSTANCE_SECRET: ${MASK}`)
    expect(masked).toContain(`      CONVEX_ADMIN_KEY: ${MASK}`)
    expect(masked).toContain(`      - SMTP_PASSWORD=${MASK}`)
    expect(masked).toContain('      - LOG_LEVEL=info')
    expect(masked).toContain('NUXT_PUBLIC_SITE_URL: https://owlat.example.com')
    // The digest pins the release: it stays.
    expect(masked).toContain(DIGEST)
    expect(masked).not.toMatch(/hunter2|9f8e7d6c|owlat\|abc/)
  })

  it('masks a long random-looking token under any key', () => {
    expect(maskComposeSecrets('    command: ["--token", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z"]')).toBe(`    command: ["--token", "${MASK}"]`)
  })
})

describe('composeDiff', () => {
  it('is a unified diff of the running file against the target, masked', () => {
    const from = `services:\n  web:\n    image: ghcr.io/owlat/web:1.2.2\n    environment:\n      SESSION_PASSWORD: old-secret-value\n`
    const to = `services:\n  web:\n    image: ghcr.io/owlat/web:1.3.0\n    environment:\n      SESSION_PASSWORD: new-secret-value\n`
    const diff = composeDiff({ name: 'docker-compose-1.2.2.yml', text: from }, { name: 'docker-compose-1.3.0.yml', text: to })
    expect(diff).toContain('--- docker-compose-1.2.2.yml')
    expect(diff).toContain('+++ docker-compose-1.3.0.yml')
    expect(diff).toContain('-    image: ghcr.io/owlat/web:1.2.2')
    expect(diff).toContain('+    image: ghcr.io/owlat/web:1.3.0')
    // Both secrets are masked the same, so the line does not even show as changed.
    expect(diff).not.toMatch(/secret-value/)
    expect(diff).not.toMatch(/^[-+]\s+SESSION_PASSWORD/m)
  })

  it('is empty for equal files and diffs against nothing when the running file is unknown', () => {
    expect(composeDiff({ name: 'a', text: 'x: 1\n' }, { name: 'b', text: 'x: 1\n' })).toBe('')
    expect(composeDiff({ name: 'a', text: null }, { name: 'b.yml', text: 'x: 1\n' })).toMatch(/--- \/dev\/null[\s\S]*\+x: 1/)
  })
})
