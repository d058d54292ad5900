// Signed-out visitors go to the app's sign-in (owlatSystem.signInPath) and come back afterwards.
// Members are let through on purpose: the page tells them it is for platform admins instead of a
// bare redirect.
export default defineNuxtRouteMiddleware(async (to) => {
  if (useWarmUpRender()) return
  const user = await useSystemUser().current()
  if (user) return
  const { signInPath, signInRedirectParam } = useRuntimeConfig().public.owlatSystem
  const target = new URL(signInPath, 'http://app.invalid')
  if (signInRedirectParam) target.searchParams.set(signInRedirectParam, to.fullPath)
  const external = /^https?:\/\//.test(signInPath)
  return navigateTo(external ? target.href : `${target.pathname}${target.search}`, { external })
})
