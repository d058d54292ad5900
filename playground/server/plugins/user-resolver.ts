// The standalone app's sign-in tells the module who is signed in, as a host's does: the session
// cookie set by /api/auth/login names a user of the module's store, re-read on every request so a
// removed user, a changed role or an ended session (server/utils/sessions.ts) takes effect at once.
export default defineNitroPlugin(() => {
  defineOwlatUserResolver(async (event) => {
    const user = await sessionUser(event)
    return user ? { id: user.id, email: user.email, role: user.role } : null
  })

  // useUserSession() in the browser asks /api/_auth/session: an ended session is cleared there
  // too, so the page does not show someone signed in whom every API refuses.
  sessionHooks.hook('fetch', async (_session, event) => {
    if (await sessionUser(event)) return
    await clearUserSession(event)
    throw createError({ statusCode: 401, statusMessage: 'Unauthorized', message: 'The session has ended; sign in again' })
  })
})
