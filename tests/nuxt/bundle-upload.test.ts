/**
 * The page's offline bundle card: the limit from the status, a file refused before a byte is sent
 * when too large, the upload's progress (XMLHttpRequest, driven here step by step), the wait while
 * the updater verifies, and the server's answer: the release ready, or its reason for refusing.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { SystemBundleUpload, UApp, UFileUpload } from '#components'
import { aStatus, cleanUp, mount, serve } from './fixtures'

const MiB = 1024 * 1024

/** Stands in for XMLHttpRequest: records what is sent; the test plays the network. */
class FakeXhr {
  static sent: FakeXhr[] = []
  upload: { onprogress: ((e: { lengthComputable: boolean, loaded: number, total: number }) => void) | null, onload: (() => void) | null } = { onprogress: null, onload: null }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  onabort: (() => void) | null = null
  status = 0
  statusText = ''
  responseText = ''
  method = ''
  url = ''
  headers: Record<string, string> = {}
  body: unknown = null
  aborted = false

  open(method: string, url: string): void {
    this.method = method
    this.url = url
  }

  setRequestHeader(name: string, value: string): void {
    this.headers[name.toLowerCase()] = value
  }

  send(body: unknown): void {
    this.body = body
    FakeXhr.sent.push(this)
  }

  abort(): void {
    this.aborted = true
    this.onabort?.()
  }

  progress(loaded: number, total: number): void {
    this.upload.onprogress?.({ lengthComputable: true, loaded, total })
  }

  allSent(): void {
    this.upload.onload?.()
  }

  answer(status: number, body: unknown): void {
    this.status = status
    this.responseText = JSON.stringify(body)
    this.onload?.()
  }
}

function aBundle(bytes: number, name = 'owlat-1.3.5.bundle.tar'): File {
  const file = new File(['x'], name, { type: 'application/x-tar' })
  // The card reads only the size: a real multi-MiB body is not needed.
  Object.defineProperty(file, 'size', { value: bytes })
  return file
}

async function mountCard() {
  // In an app shell, as the page is: toasts need UApp's provider.
  const wrapper = await mount(defineComponent({ setup: () => () => h(UApp, () => h(SystemBundleUpload)) }))
  // The status is in: the limit, or why there is none.
  await vi.waitFor(() => expect(wrapper.find('[data-testid="bundle-card"]').text()).toMatch(/up to \d|takes no bundles/))
  return wrapper
}

async function choose(wrapper: Awaited<ReturnType<typeof mountCard>>, file: File): Promise<void> {
  wrapper.findComponent(UFileUpload).vm.$emit('update:modelValue', file)
  await nextTick()
}

beforeEach(() => {
  useSystemStore().reset()
  FakeXhr.sent = []
  vi.stubGlobal('XMLHttpRequest', FakeXhr)
})

afterEach(() => {
  cleanUp()
  vi.unstubAllGlobals()
})

describe('SystemBundleUpload', () => {
  it('says how large a bundle may be, and refuses a larger one before sending a byte', async () => {
    serve('/api/system/status', () => aStatus({ bundleUpload: { maxBytes: 2 * MiB, refusal: null } }))
    const wrapper = await mountCard()
    await vi.waitFor(() => expect(wrapper.find('[data-testid="bundle-card"]').text()).toContain('owlat-VERSION.bundle.tar, up to 2.0 MiB'))
    const button = () => wrapper.find('[data-testid="bundle-upload"]')
    expect(button().attributes('disabled')).toBeDefined()

    await choose(wrapper, aBundle(3 * MiB))
    expect(wrapper.find('[data-testid="bundle-too-large"]').text()).toBe('owlat-1.3.5.bundle.tar is 3.0 MiB, larger than this instance takes (2.0 MiB, set by OWLAT_BUNDLE_MAX_BYTES).')
    expect(button().attributes('disabled')).toBeDefined()
    await button().trigger('click')
    expect(FakeXhr.sent).toEqual([])

    await choose(wrapper, aBundle(MiB))
    expect(wrapper.find('[data-testid="bundle-too-large"]').exists()).toBe(false)
    expect(button().attributes('disabled')).toBeUndefined()
  })

  it('shows the bytes going out, then the verification, then the release ready and the page refreshed', async () => {
    const status = serve('/api/system/status', () => aStatus({ bundleUpload: { maxBytes: 8 * 1024 * MiB, refusal: null } }))
    const wrapper = await mountCard()
    const file = aBundle(10 * MiB)
    await choose(wrapper, file)
    await wrapper.find('[data-testid="bundle-upload"]').trigger('click')

    const xhr = FakeXhr.sent[0]!
    expect(xhr).toMatchObject({ method: 'POST', url: '/api/system/bundles', headers: { 'content-type': 'application/octet-stream', 'accept': 'application/json' } })
    // The File itself, not a reactive proxy of it (which XMLHttpRequest would send as "[object File]").
    expect(xhr.body).toBe(file)
    const progress = () => wrapper.find('[data-testid="bundle-progress"]')
    await vi.waitFor(() => expect(progress().attributes('data-state')).toBe('sending'))
    xhr.progress(4 * MiB, 10 * MiB)
    await nextTick()
    expect(progress().text()).toBe('Uploading… 40%')
    expect(progress().find('[role="progressbar"]').attributes('aria-valuenow')).toBe('40')
    expect(wrapper.find('[data-testid="bundle-upload"]').attributes('disabled')).toBeDefined()

    xhr.allSent()
    await nextTick()
    expect(progress().attributes('data-state')).toBe('verifying')
    expect(progress().text()).toBe('Verifying and loading images…')
    // Indeterminate: how long the updater takes is unknown.
    expect(progress().find('[role="progressbar"]').attributes('aria-valuenow')).toBeUndefined()

    const readsBefore = status.requests.length
    xhr.answer(200, { version: '1.3.5', images: ['owlat/web@sha256:' + 'a'.repeat(64)], indexExpired: true, releaseDir: '/data/releases' })
    await vi.waitFor(() => expect(wrapper.find('[data-testid="bundle-done"]').exists()).toBe(true))
    const done = wrapper.find('[data-testid="bundle-done"]').text()
    expect(done).toContain('Release 1.3.5 is ready to install')
    expect(done).toContain('1 image loaded.')
    expect(done).toContain('Its release index is past its expiry')
    expect(progress().exists()).toBe(false)
    // The status (and with it the release offered) is read again, and a toast says so.
    await vi.waitFor(() => expect(document.body.querySelector('[data-slot="title"]')?.textContent).toBe('Release 1.3.5 is ready to install'))
    await vi.waitFor(() => expect(status.requests.length).toBeGreaterThan(readsBefore))
  })

  it('shows the server\'s reason when the bundle is refused, and lets the admin try again', async () => {
    serve('/api/system/status', () => aStatus({ bundleUpload: { maxBytes: 8 * 1024 * MiB, refusal: null } }))
    const wrapper = await mountCard()
    await choose(wrapper, aBundle(MiB))
    await wrapper.find('[data-testid="bundle-upload"]').trigger('click')
    const reason = 'bundle refused, nothing was kept: the bundle\'s signature does not verify against any trusted release key: it was changed after it was made, or made with another key'
    FakeXhr.sent[0]!.allSent()
    FakeXhr.sent[0]!.answer(400, { statusCode: 400, statusMessage: 'Bad Request', message: reason })
    await vi.waitFor(() => expect(wrapper.find('[data-testid="bundle-error"]').text()).toBe(reason))
    expect(wrapper.find('[data-testid="bundle-done"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="bundle-progress"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="bundle-upload"]').attributes('disabled')).toBeUndefined()

    // A connection that breaks says so, not a status.
    await wrapper.find('[data-testid="bundle-upload"]').trigger('click')
    FakeXhr.sent[1]!.onerror?.()
    await vi.waitFor(() => expect(wrapper.find('[data-testid="bundle-error"]').text()).toBe('The upload was interrupted: the server cannot be reached. Try again.'))
  })

  it('says why an instance that reads releases from elsewhere takes no bundle', async () => {
    serve('/api/system/status', () => aStatus({ bundleUpload: { maxBytes: 8 * 1024 * MiB, refusal: 'offline bundles need the directory release source (OWLAT_RELEASE_SOURCE=directory)' } }))
    const wrapper = await mountCard()
    await vi.waitFor(() => expect(wrapper.find('[data-testid="bundle-unavailable"]').text()).toBe('This instance takes no bundles: offline bundles need the directory release source (OWLAT_RELEASE_SOURCE=directory).'))
    expect(wrapper.find('[data-testid="bundle-file"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="bundle-upload"]').exists()).toBe(false)
  })

  it('abandons an upload in flight when the page goes away', async () => {
    serve('/api/system/status', () => aStatus({ bundleUpload: { maxBytes: 8 * 1024 * MiB, refusal: null } }))
    const wrapper = await mountCard()
    await choose(wrapper, aBundle(MiB))
    await wrapper.find('[data-testid="bundle-upload"]').trigger('click')
    wrapper.unmount()
    expect(FakeXhr.sent[0]!.aborted).toBe(true)
  })
})
