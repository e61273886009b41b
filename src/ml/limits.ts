/** Limits of the training pipeline, shared with the checks a platform makes before it trains. */

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
