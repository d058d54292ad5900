export default defineEventHandler(async (event) => {
  const user = await requirePlatformAdmin(event)
  return systemStatus(user)
})
