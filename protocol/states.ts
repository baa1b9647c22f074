/** Deployment states of 5.8. */
export const DEPLOYMENT_STATES = [
  'pending',
  'approved',
  'applied',
  'stale',
  'failed',
  'rejected',
  'expired',
  'superseded',
] as const;

/** A deployment's state. */
export type DeploymentStatus = (typeof DEPLOYMENT_STATES)[number];

/** The only transitions 5.8 allows. */
export const TRANSITIONS: Readonly<Record<DeploymentStatus, readonly DeploymentStatus[]>> = {
  pending: ['approved', 'rejected', 'expired', 'superseded'],
  approved: ['applied', 'stale', 'failed'],
  applied: [],
  stale: [],
  failed: [],
  rejected: [],
  expired: [],
  superseded: [],
};

/** Outcomes a plugin may report for an approved deployment. */
export const OUTCOMES = ['applied', 'stale', 'failed'] as const;

/** An outcome reported by a plugin. */
export type Outcome = (typeof OUTCOMES)[number];

/** True when 5.8 allows `from` → `to`. */
export function canTransition(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** True for a state no transition leaves. */
export function isFinal(status: DeploymentStatus): boolean {
  return TRANSITIONS[status].length === 0;
}
