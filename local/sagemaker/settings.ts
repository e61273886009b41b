/** The emulator's timings, which stand for SageMaker's minutes: settable at start and through the admin API. */

/** How long the emulated SageMaker takes, in milliseconds. */
export interface EmulatorDelays {
  /** An endpoint's `Creating` (or `Updating`) before its containers start and it is `InService` (minutes in AWS). */
  readonly endpointCreateMs: number;
  /** An endpoint's or inference component's `Deleting` before it is gone. */
  readonly deleteMs: number;
  /** An inference component's `Creating` before its copy starts and it is `InService`. */
  readonly componentCreateMs: number;
  /** A copy of a component scaled from zero: the wake alarm's evaluation and an instance's provisioning (5–10 minutes in AWS). */
  readonly copyStartMs: number;
  /** Time without invocations after which a component whose scaling allows it is scaled in to zero copies. */
  readonly scaleInIdleMs: number;
  /** After a container crashes, time until SageMaker's health checks have replaced it. */
  readonly instanceReplacementMs: number;
  /** How long an invocation may take before the runtime gives up on the container (60 s in AWS). */
  readonly invocationTimeoutMs: number;
}

/** The local cloud's defaults: long enough to watch a state change, short enough not to wait for it. */
export const DEFAULT_DELAYS: EmulatorDelays = {
  endpointCreateMs: 5_000,
  deleteMs: 1_000,
  componentCreateMs: 3_000,
  copyStartMs: 15_000,
  scaleInIdleMs: 120_000,
  instanceReplacementMs: 20_000,
  invocationTimeoutMs: 60_000,
};

/** Names of the delays, for validation of admin requests. */
export const DELAY_NAMES = Object.keys(DEFAULT_DELAYS) as (keyof EmulatorDelays)[];
