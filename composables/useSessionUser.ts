import { sessionUserSchema } from '#shared/schemas/api'

/** The signed-in user, typed through the shared schema, and whether they may manage the system. */
export function useSessionUser() {
  const { loggedIn, user, fetch, clear } = useUserSession()

  const sessionUser = computed(() => {
    const parsed = sessionUserSchema.safeParse(user.value)
    return parsed.success ? parsed.data : null
  })
  const isAdmin = computed(() => loggedIn.value && sessionUser.value?.role === 'platform-admin')

  return { loggedIn, sessionUser, isAdmin, fetchSession: fetch, clearSession: clear }
}
