import { rehearsalBodySchema, runAcceptedSchema, type Run } from '#layers/owlat-system/shared/schemas/api'
import { failedRehearsal, isRehearsal, latestRehearsal } from '#layers/owlat-system/shared/rehearsal'
import { isActiveStatus } from '#layers/owlat-system/shared/run-state'
import { apiErrorMessage } from '#layers/owlat-system/app/helpers/api-errors'

/**
 * Rehearsing the update dialog's target (`POST /api/system/rehearsals`): starts one, follows it
 * (the page's progress follows it too), and says what this instance's rehearsals of the target
 * found: the latest one, and the latest when it failed (`failedRehearsal`), until a newer passes.
 */
export function useRehearsal(target: MaybeRefOrGetter<string>) {
  const store = useSystemStore()
  const { status } = useSystemStatus()
  const { runs } = useSystemHistory()
  // A rehearsal of the target already in flight (started in another tab, say) is followed too.
  const active = status.value?.activeRun
  const runId = ref<string | null>(active && isRehearsal(active) && active.toVersion === toValue(target) ? active.id : null)
  const { run } = useActiveRun(runId)
  const starting = ref(false)
  const error = ref<string | null>(null)

  /** The history, with the followed rehearsal as it stands now. */
  const known = computed<Run[]>(() => run.value ? [run.value, ...runs.value.filter(r => r.id !== run.value!.id)] : runs.value)
  const latest = computed(() => latestRehearsal(known.value, toValue(target)))
  const failed = computed(() => failedRehearsal(known.value, toValue(target)))
  /** Started here and not ended (or not read yet). */
  const inFlight = computed(() => starting.value || (runId.value !== null && (run.value === null || isActiveStatus(run.value.status))))

  async function start(): Promise<void> {
    starting.value = true
    error.value = null
    try {
      const { runId: id } = runAcceptedSchema.parse(await $fetch('/api/system/rehearsals', {
        method: 'POST',
        body: rehearsalBodySchema.parse({ targetVersion: toValue(target) }),
      }))
      runId.value = id
      store.followRun(id)
    }
    catch (err) {
      error.value = apiErrorMessage(err, 'The rehearsal could not be started.')
    }
    finally {
      starting.value = false
    }
    // Another run (from the CLI, say) may be what refused it: the page picks it up.
    await store.refreshStatus()
  }

  return { run, runId, latest, failed, inFlight, starting, error, start }
}
