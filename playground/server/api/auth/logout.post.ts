// Signing out ends every session of the user, not only this browser's: a copy of the cookie kept
// elsewhere stops working too.
export default defineEventHandler(async (event) => {
  const user = await sessionUser(event)
  if (user) await useStore().revokeSessions(user.id)
  await clearUserSession(event)
  return { ok: true }
})
