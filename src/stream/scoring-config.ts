/** The stream function's scoring settings (`STREAM_SCORING`, set from the topology's stream spec). */
import * as z from 'zod/mini';
import { ENV } from '../../topology/environment.js';
import type { StreamScoringSpec } from '../../topology/spec.js';

const scoringSchema = z.object({
  model: z.string().check(z.minLength(1)),
  alias: z.string().check(z.minLength(1)),
  threshold: z.optional(z.object({ output: z.optional(z.string()), index: z.optional(z.number().check(z.int(), z.nonnegative())), above: z.number() })),
});

/** Reads `STREAM_SCORING` once at start; throws naming what is missing or invalid. */
export function loadStreamScoring(env: NodeJS.ProcessEnv = process.env): StreamScoringSpec {
  const text = env[ENV.streamScoring];
  if (text === undefined) throw new Error(`invalid function configuration: ${ENV.streamScoring} is not set`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`invalid function configuration: ${ENV.streamScoring} is not JSON`);
  }
  const result = scoringSchema.safeParse(json);
  if (!result.success) throw new Error(`invalid function configuration: ${ENV.streamScoring}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return result.data as StreamScoringSpec;
}
