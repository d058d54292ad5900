import type { RunStatus } from '#layers/owlat-system/shared/run-state'

type BadgeColor = 'primary' | 'success' | 'error' | 'warning' | 'neutral' | 'info'

export const RUN_STATUS_LABELS: Record<RunStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  rolled_back: 'Rolled back',
  failed: 'Failed',
}

export const RUN_STATUS_COLORS: Record<RunStatus, BadgeColor> = {
  queued: 'neutral',
  running: 'info',
  succeeded: 'success',
  rolled_back: 'warning',
  failed: 'error',
}
