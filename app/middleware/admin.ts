// Signed-out visitors go to sign-in and come back afterwards. Members are let through on
// purpose: the page tells them it is for platform admins instead of a bare redirect.
export default defineNuxtRouteMiddleware((to) => {
  const { loggedIn } = useUserSession()
  if (!loggedIn.value) {
    return navigateTo({ path: '/login', query: { redirect: to.fullPath } })
  }
})
