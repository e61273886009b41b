/** Limits of what a training job accepts, shared by request validation and the pipeline. */

/** Most distinct target values a classification job accepts. */
export const MAX_CLASSES = 100;
/** Most categories one-hot/ordinal encoding keeps per text feature; rarer ones share the unknown bucket. */
export const MAX_CATEGORIES = 64;
/** Largest difference allowed between the exported graph's and the trainer's predictions. */
export const PARITY_TOLERANCE = 1e-5;
