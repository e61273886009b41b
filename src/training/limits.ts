/** Limits of training jobs: the training function's memory and time, as the checks before queueing see them. */
import { topology } from '../../topology/topology.js';

/** Time kept back from a training invocation's deadline to register the model and record the outcome. */
export const FINISH_RESERVE_MS = 60_000;

/** The training function's limits (from the topology), as the checks before queueing see them. */
export function trainingLimits(): { memoryBytes: number; trainingSeconds: number } {
  const fn = topology.functions.find((spec) => spec.id === 'train')!;
  return { memoryBytes: fn.memoryMb * 2 ** 20, trainingSeconds: fn.timeoutSeconds - FINISH_RESERVE_MS / 1000 };
}
