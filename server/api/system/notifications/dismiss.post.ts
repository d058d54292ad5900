import { dismissBodySchema } from '#layers/owlat-system/shared/schemas/api'

export default defineEventHandler(async (event) => {
  const user = await requirePlatformAdmin(event)
  const { version } = await readValidatedBody(event, zodValidator(dismissBodySchema))
  const store = useStore()
  const { releases } = await readReleases(store, useReleaseSource(), useOwlatConfig().releaseCheck)
  const release = releases.find(r => r.version === version)
  if (!release) {
    throw createError({ statusCode: 400, statusMessage: 'Bad Request', message: `Unknown version ${version}: no such release is known` })
  }
  if (release.severity === 'security') {
    throw createError({ statusCode: 400, statusMessage: 'Bad Request', message: 'Security releases cannot be dismissed' })
  }
  await store.dismiss({ userId: user.id, email: user.email }, version)
  return { ok: true }
})
