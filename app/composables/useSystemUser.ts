import { systemUserAnswerSchema, type SessionUser } from '#layers/owlat-system/shared/schemas/api'

/**
 * Who is signed in, as the app's user resolver says (`GET /api/owlat-system/user`), and whether
 * they may manage the system. Read during SSR with the visitor's cookies and shared; asked again
 * on each client-side navigation to the module's pages (`current`). An app that signs someone in
 * or out and stays on a page that shows the banners calls `refresh`.
 */
export function useSystemUser() {
  const user = useState<SessionUser | null>('owlat-system-user', () => null)
  const loaded = useState('owlat-system-user-loaded', () => false)
  // Forwards the visitor's cookies while rendering on the server.
  const request = useRequestFetch()

  async function refresh(): Promise<SessionUser | null> {
    const answer = systemUserAnswerSchema.parse(await request('/api/owlat-system/user', { cache: 'no-store' }))
    user.value = answer.user
    loaded.value = true
    return answer.user
  }

  /** The user, read the first time it is needed. */
  async function load(): Promise<SessionUser | null> {
    return loaded.value ? user.value : refresh()
  }

  const nuxtApp = useNuxtApp()
  /**
   * The user as of now: what this page load read (on the server, and while hydrating what it
   * rendered), else asked again, so a sign-in or sign-out in between is seen on the next navigation.
   */
  async function current(): Promise<SessionUser | null> {
    return import.meta.server || nuxtApp.isHydrating ? load() : refresh()
  }

  const isAdmin = computed(() => user.value?.role === 'platform-admin')

  return { user: readonly(user), isAdmin, current, refresh }
}
