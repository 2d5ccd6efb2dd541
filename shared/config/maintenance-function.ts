/**
 * The maintenance sweep's function and schedule: one definition for the CDK stack and the
 * local stack, so the sweep's deadline and context are alike in both.
 */
export const MAINTENANCE_FUNCTION = {
  memoryMb: 256,
  /** Under the schedule's minute, so two sweeps never overlap. */
  timeoutSeconds: 50,
  everyMinutes: 1,
} as const;
