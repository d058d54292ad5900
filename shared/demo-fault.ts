/**
 * The demo releases' built-in faults (`OWLAT_DEMO_FAULT` in a release's compose file), so
 * `npm start` can show a failed update and its restore:
 * - `unhealthy`: the web answers but never reports healthy (caught by `verify`);
 * - `unhealthy-after:<ms>`: healthy at first, unhealthy from `<ms>` after it first answered
 *   healthy (caught by the watch window after `verify`).
 */
const AFTER = /^unhealthy-after:(\d{1,9})$/

export type DemoFault = { unhealthyAfterMs: number } | null

/** Null when unset or not a fault this build knows (an unknown value must not break a healthy web). */
export function parseDemoFault(value: string | undefined): DemoFault {
  if (value === 'unhealthy') return { unhealthyAfterMs: 0 }
  const after = value ? AFTER.exec(value) : null
  return after ? { unhealthyAfterMs: Number(after[1]) } : null
}

/** Whether the fault makes the web unhealthy `healthyForMs` after it first answered healthy. */
export function faultActive(fault: DemoFault, healthyForMs: number): boolean {
  return fault !== null && healthyForMs >= fault.unhealthyAfterMs
}
