/**
 * The item and key layouts that IAM grants are scoped to: which registry partitions and
 * attributes the predict and shadow functions may write, and which lake keys they may put. The
 * stores that write them (`src/inference/telemetry/`, `src/rollout/`) and the stack that grants
 * them (`infra/`) both read them here, so a grant cannot drift from what the code writes.
 */

/** Lake prefix of the sampled request copies predict writes for shadow versions (`shadow-requests/<model>/…`). */
export const SHADOW_REQUESTS_PREFIX = 'shadow-requests/';

/** Lake keys of the side-by-side records the shadow function writes (`predictions/<model>/shadow/<alias>/…`). */
export const SHADOW_PREDICTIONS_PATTERN = 'predictions/*/shadow/*';

/** Registry partition-key prefix of per-version serving counters (the predict function may write only these). */
export const STATS_PK_PREFIX = 'STATS#';

/** Latency buckets of a serving counter (attributes `l0` … `l63`). */
export const LATENCY_BUCKETS = 64;

/** Every attribute a serving counter item has (the key included): the predict function may write these and no others. */
export const STATS_ATTRIBUTES: readonly string[] = [
  'pk',
  'sk',
  'requests',
  'rejected',
  'failed',
  'fallbacks',
  'flushes',
  'expiresAt',
  ...Array.from({ length: LATENCY_BUCKETS }, (_, i) => `l${i}`),
];

/** Registry partition-key prefix of shadow comparison items (the shadow function may write only these). */
export const SHADOW_PK_PREFIX = 'SHADOW#';

/** The counters of a shadow comparison item. */
export const SHADOW_COUNTERS = ['copies', 'shadowErrors', 'categoricalCompared', 'agreed', 'numericCompared', 'absDiffSum'] as const;

/** Every attribute a shadow comparison item has (the key included): the shadow function may write these and no others. */
export const SHADOW_ATTRIBUTES: readonly string[] = ['pk', 'sk', 'type', 'minute', 'primaryVersion', 'shadowVersion', 'expiresAt', 'sources', ...SHADOW_COUNTERS];

// Async inference (src/async/): request items, inputs and results.

/** Lake prefix of async inference (`predictions/async/`): inputs, uploads and results, expired by one lifecycle rule. */
export const ASYNC_PREFIX = 'predictions/async/';

/** Lake keys of async inputs sent inline (`predictions/async/inputs/<id>`): predict writes them, the async worker reads them. */
export const ASYNC_INPUTS_PATTERN = `${ASYNC_PREFIX}inputs/*`;

/** Lake keys of presigned async input uploads (`predictions/async/uploads/<id>`): predict signs them, the async worker reads them. */
export const ASYNC_UPLOADS_PATTERN = `${ASYNC_PREFIX}uploads/*`;

/** Lake keys of async results (`predictions/async/results/<id>`): the async worker writes them, predict signs links to them. */
export const ASYNC_RESULTS_PATTERN = `${ASYNC_PREFIX}results/*`;

/** Registry partition-key prefix of async request items and their idempotency keys (predict and the async worker write only these). */
export const ASYNC_PK_PREFIX = 'ASYNC#';

/** Days async requests, inputs and results are kept (DynamoDB TTL on the request item; the S3 lifecycle rule adds one day). */
export const ASYNC_RETENTION_DAYS = 1;
