import { apiErrorMessage } from '#layers/owlat-system/app/helpers/api-errors'
import { planSchema, type Plan } from '#layers/owlat-system/shared/schemas/api'

/**
 * `GET /api/system/plan` for the target a dialog shows: read when the dialog opens and again
 * whenever the target changes (the rollback dialog's choice); an answer for an earlier target is
 * dropped. `target` null: nothing to plan.
 */
export function usePlan(kind: 'update' | 'rollback', target: MaybeRefOrGetter<string | null>) {
  const plan = ref<Plan | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)
  let asked = 0

  async function load(targetVersion: string | null): Promise<void> {
    const seq = ++asked
    plan.value = null
    error.value = null
    if (!targetVersion) {
      loading.value = false
      return
    }
    loading.value = true
    try {
      const body = await $fetch('/api/system/plan', { query: { kind, targetVersion } })
      if (seq === asked) plan.value = planSchema.parse(body)
    }
    catch (err) {
      if (seq === asked) error.value = apiErrorMessage(err, 'Could not read the plan; the update checks it again when it starts.')
    }
    finally {
      if (seq === asked) loading.value = false
    }
  }

  watch(() => toValue(target), t => void load(t), { immediate: true })
  /** The failing checks, and whether ticking "ignore failing checks" with a reason may let them through. */
  const failing = computed(() => plan.value?.checks.filter(c => c.status === 'fail') ?? [])
  const ignorable = computed(() => failing.value.every(c => c.ignorable))
  return { plan, error, loading, failing, ignorable, reload: () => load(toValue(target)) }
}
