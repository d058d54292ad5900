import { bundleUploadSchema, type BundleUploadResult } from '#layers/owlat-system/shared/schemas/bundle'

/** `sending`: bytes on their way (`percent`); `verifying`: all sent, the updater checks the bundle and loads its images. */
export type BundleUploadState = 'idle' | 'sending' | 'verifying' | 'done' | 'failed'

/** What the page says about a failed upload: the server's own message first (h3's `{ message }`). */
function failureMessage(xhr: XMLHttpRequest): string {
  if (xhr.status === 0) return 'The upload was interrupted: the server cannot be reached. Try again.'
  try {
    const body = JSON.parse(xhr.responseText) as { message?: unknown, statusMessage?: unknown }
    if (typeof body.message === 'string' && body.message) return body.message
    if (typeof body.statusMessage === 'string' && body.statusMessage) return body.statusMessage
  }
  catch {
    // Not the app's answer (a proxy's page, say): the status says what happened.
  }
  if (xhr.status === 413) return 'The server refused the upload as too large (413): a proxy in front of it may limit request bodies.'
  return `The upload failed (${xhr.status}${xhr.statusText ? ` ${xhr.statusText}` : ''}).`
}

/**
 * Uploading an offline release bundle (`POST /api/system/bundles`) with the bytes' progress:
 * XMLHttpRequest, since fetch reports none for uploads. The body is the file itself, sent as
 * `application/octet-stream` (the one non-JSON type the route takes, see server/utils/csrf.ts) with
 * the session cookie, like the page's other requests. An upload still going when the page goes
 * away is abandoned.
 */
export function useBundleUpload() {
  const state = ref<BundleUploadState>('idle')
  /** 0–100 while sending; null when the browser cannot tell. */
  const percent = ref<number | null>(null)
  const error = ref<string | null>(null)
  const result = ref<BundleUploadResult | null>(null)
  // Where $fetch would send it: under the app's base URL.
  const url = `${useRuntimeConfig().app.baseURL.replace(/\/+$/, '')}/api/system/bundles`
  let current: XMLHttpRequest | null = null

  function upload(file: File): Promise<BundleUploadResult | null> {
    current?.abort()
    state.value = 'sending'
    percent.value = 0
    error.value = null
    result.value = null
    const xhr = new XMLHttpRequest()
    current = xhr
    return new Promise((resolve) => {
      const fail = (message: string) => {
        if (current !== xhr) return resolve(null)
        current = null
        state.value = 'failed'
        error.value = message
        resolve(null)
      }
      xhr.upload.onprogress = (event) => {
        if (current === xhr) percent.value = event.lengthComputable && event.total > 0 ? Math.min(100, Math.round((event.loaded / event.total) * 100)) : null
      }
      // Every byte is out: the server now hands the bundle to the updater and waits for its verdict.
      xhr.upload.onload = () => {
        if (current !== xhr) return
        percent.value = 100
        state.value = 'verifying'
      }
      xhr.onerror = () => fail(failureMessage(xhr))
      xhr.onabort = () => fail('The upload was cancelled.')
      xhr.onload = () => {
        if (xhr.status < 200 || xhr.status >= 300) return fail(failureMessage(xhr))
        let answer: BundleUploadResult
        try {
          answer = bundleUploadSchema.parse(JSON.parse(xhr.responseText))
        }
        catch {
          return fail('The server answered the upload with something unexpected.')
        }
        if (current !== xhr) return resolve(null)
        current = null
        result.value = answer
        state.value = 'done'
        resolve(answer)
      }
      xhr.open('POST', url)
      xhr.setRequestHeader('content-type', 'application/octet-stream')
      xhr.setRequestHeader('accept', 'application/json')
      xhr.send(file)
    })
  }

  /** Back to choosing a file (after an answer; cancels an upload in flight). */
  function reset(): void {
    const inFlight = current
    current = null
    inFlight?.abort()
    state.value = 'idle'
    percent.value = null
    error.value = null
    result.value = null
  }

  onScopeDispose(() => {
    const inFlight = current
    current = null
    inFlight?.abort()
  })

  return { state, percent, error, result, upload, reset }
}
