import type { ScheduleAnswer } from '#layers/owlat-system/shared/schemas/api'

/** The next automatic update and why ("1.3.1 on Sunday 03:00 UTC, security release"), and any pause with who set it. */
export default defineEventHandler(async (event): Promise<ScheduleAnswer> => {
  await requirePlatformAdmin(event)
  return scheduleAnswer(Date.now())
})
