import { LazySystemRollbackModal } from '#components'
import { rollbackBodySchema, rollbackCandidatesSchema, runAcceptedSchema } from '#layers/owlat-system/shared/schemas/api'
import { apiErrorMessage } from '#layers/owlat-system/app/helpers/api-errors'

/**
 * Opens the rollback dialog (from the version card, or from a failed or rolled-back run) with the
 * server's own list of targets, and starts the chosen rollback. The page follows the run like an
 * update: progress, then a reload onto the older version.
 */
export function useRollbackDialog() {
  const store = useSystemStore()
  const toast = useToast()
  const modal = useOverlay().create(LazySystemRollbackModal)
  const route = useRoute()
  /**
   * True while the chosen rollback is being started. Not while the list loads: a button in its
   * loading state is disabled, which would drop the focus the dialog must give back on close.
   */
  const starting = ref(false)

  async function open(preselect?: string): Promise<void> {
    let candidates
    try {
      candidates = rollbackCandidatesSchema.parse(await $fetch('/api/system/rollbacks/candidates', { cache: 'no-store' }))
    }
    catch (err) {
      toast.add({ title: 'Could not list the versions to roll back to', description: apiErrorMessage(err), color: 'error' })
      return
    }
    const chosen = await modal.open({ data: candidates, preselect }).result
    if (!chosen) return
    starting.value = true
    try {
      const { runId } = runAcceptedSchema.parse(await $fetch('/api/system/rollbacks', {
        method: 'POST',
        body: rollbackBodySchema.parse(chosen),
      }))
      store.followRun(runId)
      // Its progress is on the System & Updates page: go there (from a run's page), and bring it into view.
      store.requestFocus('progress')
      if (route.name !== 'owlat-system') await navigateTo({ name: 'owlat-system' })
      await store.refreshStatus()
    }
    catch (err) {
      toast.add({ title: 'The rollback could not be started', description: apiErrorMessage(err), color: 'error' })
      await store.refreshStatus()
    }
    finally {
      starting.value = false
    }
  }

  return { open, starting }
}
