/**
 * A rollout moves an alias from its current version (the baseline) to a candidate in steps of
 * traffic share (e.g. 10 → 50 → 100 %), each held for a bake time while guards watch the
 * candidate's counters; a tripped guard puts the alias back where it was.
 */
import type { AliasRoute } from '../registry/types.js';

/** Where a rollout is. RUNNING and PAUSED rollouts are active; the others are over. */
export type RolloutState = 'RUNNING' | 'PAUSED' | 'SUCCEEDED' | 'ROLLED_BACK' | 'ABORTED';

/** States of a rollout that is over. */
export const FINISHED_STATES: readonly RolloutState[] = ['SUCCEEDED', 'ROLLED_BACK', 'ABORTED'];

/** The traffic steps and how long each is held. */
export interface RolloutPlan {
  /** Candidate's share of traffic per step, increasing, ending at 100. */
  readonly steps: readonly number[];
  /** How long each step runs before it may advance. */
  readonly bakeSeconds: number;
  /** Longest a step may wait for the traffic to judge it (`minRequests`) before it rolls back. */
  readonly maxStepSeconds: number;
}

/** A metric the candidate must reach compared with the baseline, from their registry metrics. */
export interface MetricGuard {
  readonly name: string;
  /** How much better than the baseline the candidate must be (negative: how much worse it may be). @default 0 */
  readonly minDelta: number;
}

/** When a step rolls back, and when it may advance. */
export interface RolloutGuards {
  /** Largest share of the candidate's requests that may fail (5xx) or be refused (4xx). */
  readonly maxErrorRate: number;
  /** Largest p99 latency of the candidate, in ms, once it has `minRequests`. @default - none */
  readonly maxP99Ms?: number;
  /** Requests the candidate must answer in a step before it advances (and before rates are judged). */
  readonly minRequests: number;
  /** Checked when the rollout starts. @default - none */
  readonly minMetric?: MetricGuard;
}

/** What the candidate did in a step so far, as last checked. */
export interface StepCheck {
  readonly at: string;
  readonly requests: number;
  readonly failures: number;
  readonly p99Ms?: number;
  readonly verdict: string;
}

/** A rollout of a candidate version on one alias. */
export interface Rollout {
  readonly model: string;
  readonly alias: string;
  /** `<model>/<alias>/<start time>`: who the rollout's alias changes are recorded as. */
  readonly id: string;
  readonly baseline: number;
  readonly candidate: number;
  readonly plan: RolloutPlan;
  readonly guards: RolloutGuards;
  readonly state: RolloutState;
  /** Index into `plan.steps` of the step the alias is at. */
  readonly step: number;
  /** When the current step began (or was resumed): its bake and its counters start here. */
  readonly stepStartedAt: string;
  /** The alias's revision before the rollout: a rollback restores it. */
  readonly baseRevision: number;
  /** The alias's revision after the rollout's last change of it. */
  readonly aliasRevision: number;
  readonly startedBy: string;
  readonly reason: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  /** Why it ended (rolled back, aborted, succeeded). */
  readonly outcome?: string;
  readonly lastCheck?: StepCheck;
  /** Optimistic concurrency between the advancer and API calls. */
  readonly revision: number;
}

/** Routes of the alias at a step: the candidate's share, the rest to the baseline. */
export function stepRoutes(rollout: Pick<Rollout, 'baseline' | 'candidate' | 'plan'>, step: number): AliasRoute[] {
  const percent = rollout.plan.steps[step]!;
  return percent >= 100
    ? [{ version: rollout.candidate, weight: 100 }]
    : [
        { version: rollout.baseline, weight: 100 - percent },
        { version: rollout.candidate, weight: percent },
      ];
}

/** Routes of the alias with all its traffic on the baseline, as before the rollout. */
export const baselineRoutes = (rollout: Pick<Rollout, 'baseline'>): AliasRoute[] => [{ version: rollout.baseline, weight: 100 }];

/** The ledger reason of a move to a step (`why`: the verdict that allowed it). */
export function stepReason(rollout: Pick<Rollout, 'candidate' | 'plan'>, step: number, why?: string): string {
  const move = `step ${step + 1} of ${rollout.plan.steps.length}: ${rollout.plan.steps[step]} % to v${rollout.candidate}`;
  return why === undefined ? move : `${move} (${why})`;
}

/** How a rollout describes itself in the alias ledger. */
export const rolloutActor = (rollout: Pick<Rollout, 'id'>): string => `rollout ${rollout.id}`;

/** What a rollout event reports. */
export type RolloutAction = 'started' | 'advanced' | 'succeeded' | 'paused' | 'resumed' | 'rolledBack' | 'aborted';

/** Published (to the registry's event bus) whenever a rollout changes. */
export type RolloutChanged = {
  readonly type: 'RolloutChanged';
  /** What happened: the rollout started, moved to its next step, finished, or was paused, resumed, rolled back or aborted. */
  readonly action: RolloutAction;
  /** The candidate's share of traffic after the change. */
  readonly percent: number;
  readonly by: string;
  readonly reason: string;
} & Pick<Rollout, 'model' | 'alias' | 'id' | 'baseline' | 'candidate' | 'state' | 'step'>;
