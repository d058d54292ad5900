/** Only same-site paths: `?redirect=https://evil.example` or `//evil.example` must not leave the app. */
export function safeRedirect(value: unknown, fallback = '/settings/system'): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) {
    return fallback
  }
  return value
}
