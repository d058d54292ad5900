// The standalone app's sign-in tells the module who is signed in, as a host's does: the session
// cookie set by /api/auth/login names a user of the module's store, re-read on every request so a
// removed user or a changed role takes effect at once.
import { sessionUserSchema } from '#layers/owlat-system/shared/schemas/api'

export default defineNitroPlugin(() => {
  defineOwlatUserResolver(async (event) => {
    const session = await getUserSession(event)
    const parsed = sessionUserSchema.safeParse(session.user)
    const user = parsed.success ? await useStore().getUserById(parsed.data.id) : null
    return user ? { id: user.id, email: user.email, role: user.role } : null
  })
})
