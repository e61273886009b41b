/**
 * Shadow traffic: the copies of requests the predict function hands to the shadow worker.
 *
 * Predict never waits for a shadow version. It answers with the alias's primary version, keeps
 * a sampled copy of the request and of its answer in memory, and writes the copies it holds as
 * one JSON Lines object under `shadow-requests/` at most every few seconds (with its serving
 * counters). The object's creation is announced on the `shadow` queue; the shadow function runs
 * each copy on the shadow version and writes both answers side by side under
 * `predictions/<model>/shadow/<alias>/…`, and adds them to the alias's comparison counters.
 *
 * | object                          | key                                                             |
 * | ------------------------------- | --------------------------------------------------------------- |
 * | copies from one predict flush   | `shadow-requests/<model>/<yyyy-mm-dd>/<time>-<container>.jsonl` |
 * | compared answers (one per copy) | `predictions/<model>/shadow/<alias>/<yyyy-mm-dd>/<same name>.jsonl` |
 */
import * as z from 'zod/mini';
import { SHADOW_REQUESTS_PREFIX } from '../../../topology/storage-layout.js';

/** Largest request body (serialised) predict copies; bigger requests are served but not shadowed. */
export const MAX_SHADOW_COPY_BYTES = 64 * 1024;

/** The protocol a copied request came in (and the shadow version is called with). */
export type ShadowProtocol = 'v1' | 'v2';

const shadowCopySchema = z.object({
  model: z.string(),
  alias: z.string(),
  /** The request id (API Gateway's), so a record can be traced to its call. */
  requestId: z.string(),
  /** ISO time the primary answered. */
  at: z.string(),
  protocol: z.enum(['v1', 'v2']),
  /** The parsed request body, as the primary version received it. */
  request: z.unknown(),
  primary: z.object({ version: z.number(), response: z.unknown() }),
  shadowVersion: z.number(),
});

/** One sampled request, with the primary version's answer, for the shadow version to answer too. */
export type ShadowCopy = z.infer<typeof shadowCopySchema>;

/** Reads one line of a `shadow-requests/` object; throws naming the problem. */
export function parseShadowCopy(line: string): ShadowCopy {
  const result = shadowCopySchema.safeParse(JSON.parse(line));
  if (!result.success) throw new Error(`invalid shadow copy: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return result.data;
}

/** Key of the object holding one flush of copies. */
export function shadowRequestsKey(model: string, at: Date, container: string, sequence: number): string {
  const iso = at.toISOString();
  return `${SHADOW_REQUESTS_PREFIX}${model}/${iso.slice(0, 10)}/${iso.replace(/[:.]/g, '')}-${container}-${sequence}.jsonl`;
}

/** Key of the side-by-side records made from a `shadow-requests/` object, for one alias. */
export function shadowPredictionsKey(requestsKey: string, model: string, alias: string): string {
  const rest = requestsKey.slice(`${SHADOW_REQUESTS_PREFIX}${model}/`.length);
  return `predictions/${model}/shadow/${alias}/${rest}`;
}
