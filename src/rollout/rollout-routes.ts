import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { InvalidRequestError } from '../errors.js';
import { callerOf, parseBody, requiredRevision } from '../http/request.js';
import { jsonResponse } from '../http/response.js';
import { pathParam, type RouteTable } from '../http/router.js';
import { assertAliasName, assertModelName } from '../registry/names.js';
import { storableNumbers } from '../storage/numbers.js';
import type { Rollouts } from './rollouts.js';

/** Plan and guards a rollout gets when the request leaves them out. */
export const ROLLOUT_DEFAULTS = { steps: [10, 50, 100], bakeSeconds: 300, maxErrorRate: 0.01, minRequests: 100 } as const;

/** Longest bake and step wait accepted (a week). */
const MAX_SECONDS = 7 * 86_400;

/** How long a step may wait for traffic by default: four bake times, at least ten minutes, at most a week. */
export const defaultMaxStepSeconds = (bakeSeconds: number): number => Math.min(Math.max(4 * bakeSeconds, 600), MAX_SECONDS);

/** Shortest step wait accepted: the advancer runs every minute in AWS. */
const MIN_STEP_SECONDS = 60;

/** Most steps a plan may have. */
export const MAX_STEPS = 10;

const text = z.optional(z.string().check(z.maxLength(1024)));
const startSchema = z.strictObject({
  candidate: z.number().check(z.int(), z.positive()),
  steps: z.optional(
    z
      .array(z.number().check(z.int(), z.gte(1), z.lte(100)))
      .check(
        z.minLength(1),
        z.maxLength(MAX_STEPS),
        z.refine((steps) => steps.every((step, i) => i === 0 || step > steps[i - 1]!), 'steps must increase'),
        z.refine((steps) => steps[steps.length - 1] === 100, 'the last step must be 100 (all traffic to the candidate)'),
      ),
  ),
  bakeSeconds: z.optional(z.number().check(z.int(), z.gte(0), z.lte(MAX_SECONDS))),
  maxStepSeconds: z.optional(z.number().check(z.int(), z.gte(MIN_STEP_SECONDS), z.lte(MAX_SECONDS))),
  guards: z.optional(
    z.strictObject({
      maxErrorRate: z.optional(z.number().check(z.gte(0), z.lte(1), storableNumbers)),
      maxP99Ms: z.optional(z.number().check(z.positive(), storableNumbers)),
      minRequests: z.optional(z.number().check(z.int(), z.gte(0), storableNumbers)),
      minMetric: z.optional(z.strictObject({ name: z.string().check(z.minLength(1), z.maxLength(128)), minDelta: z.optional(z.number().check(storableNumbers)) })),
    }),
  ),
  reason: text,
});
const commandSchema = z.strictObject({ reason: text });

/**
 * Rollout routes: start a rollout on an alias (`If-Match` = the alias's revision), read it, and
 * pause, resume or abort it.
 */
export function createRolloutRoutes(rollouts: Rollouts): RouteTable {
  const target = (event: APIGatewayProxyEvent) => [assertModelName(pathParam(event, 'name')), assertAliasName(pathParam(event, 'alias'))] as const;
  const command = (run: (model: string, alias: string, command: { by: string; reason: string }) => ReturnType<Rollouts['pause']>) => async (event: APIGatewayProxyEvent) => {
    const body = parseBody(event, commandSchema, 'rollout command');
    return jsonResponse(200, await run(...target(event), { by: callerOf(event), reason: body.reason ?? '' }));
  };

  return {
    'POST /models/{name}/aliases/{alias}/rollout': async (event) => {
      const body = parseBody(event, startSchema, 'rollout');
      const expectedRevision = requiredRevision(event, 'starting a rollout');
      const guards = body.guards ?? {};
      const bakeSeconds = body.bakeSeconds ?? ROLLOUT_DEFAULTS.bakeSeconds;
      const maxStepSeconds = body.maxStepSeconds ?? defaultMaxStepSeconds(bakeSeconds);
      if (maxStepSeconds < bakeSeconds) throw new InvalidRequestError(`maxStepSeconds (${maxStepSeconds}) must be at least bakeSeconds (${bakeSeconds})`);
      const rollout = await rollouts.start(...target(event), {
        candidate: body.candidate,
        plan: { steps: body.steps ?? [...ROLLOUT_DEFAULTS.steps], bakeSeconds, maxStepSeconds },
        guards: {
          maxErrorRate: guards.maxErrorRate ?? ROLLOUT_DEFAULTS.maxErrorRate,
          minRequests: guards.minRequests ?? ROLLOUT_DEFAULTS.minRequests,
          ...(guards.maxP99Ms === undefined ? {} : { maxP99Ms: guards.maxP99Ms }),
          ...(guards.minMetric === undefined ? {} : { minMetric: { name: guards.minMetric.name, minDelta: guards.minMetric.minDelta ?? 0 } }),
        },
        by: callerOf(event),
        reason: body.reason ?? '',
        expectedRevision,
      });
      return jsonResponse(201, rollout);
    },
    'GET /models/{name}/aliases/{alias}/rollout': async (event) => jsonResponse(200, await rollouts.get(...target(event))),
    'POST /models/{name}/aliases/{alias}/rollout/pause': command((...args) => rollouts.pause(...args)),
    'POST /models/{name}/aliases/{alias}/rollout/resume': command((...args) => rollouts.resume(...args)),
    'POST /models/{name}/aliases/{alias}/rollout/abort': command((...args) => rollouts.abort(...args)),
  };
}
