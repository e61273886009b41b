/** Limits of what a training job accepts, shared by request validation and the pipeline. */
import { topology } from '../../topology/topology.js';

/** Most distinct target values a classification job accepts. */
export const MAX_CLASSES = 100;
/** Most categories one-hot/ordinal encoding keeps per text feature; rarer ones share the unknown bucket. */
export const MAX_CATEGORIES = 64;
/**
 * Largest difference allowed between the exported graph's and the trainer's predictions, as a
 * share of max(1, magnitude of the summed terms behind the prediction): absolute for small
 * terms, relative to the terms (not the result, which may be near 0) for large ones.
 */
export const PARITY_TOLERANCE = 1e-5;
/** Time kept back from a training invocation's deadline to register the model and record the outcome. */
export const FINISH_RESERVE_MS = 60_000;

/** The training function's limits (from the topology), as the checks before queueing see them. */
export function trainingLimits(): { memoryBytes: number; trainingSeconds: number } {
  const fn = topology.functions.find((spec) => spec.id === 'train')!;
  return { memoryBytes: fn.memoryMb * 2 ** 20, trainingSeconds: fn.timeoutSeconds - FINISH_RESERVE_MS / 1000 };
}
