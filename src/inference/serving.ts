/**
 * The one inference path: a request for a model (and an alias or version, or its default alias)
 * is routed by the alias (weights, sticky routing key), answered by the picked version's backend,
 * counted in its serving counters, copied to the alias's shadow version (sampled), and answered
 * by the alias's fallback while the picked version cannot answer. Every entry point serves
 * through here: the synchronous HTTP routes (`predict-routes.ts`), async requests, batch jobs and
 * streams; only their transport differs.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PlatformError } from '../errors.js';
import { assertModelName, parseVersionSelector } from '../registry/names.js';
import type { ModelVersion } from '../registry/types.js';
import type { Outcome } from './telemetry/serving-stats.js';
import type { ServingTelemetry } from './telemetry/serving-telemetry.js';
import type { ShadowProtocol } from './telemetry/shadow-copy.js';
import type { Backend, ServedModel } from './backend.js';
import { fallsBack as isFallbackCase, type FallbackReason } from './backend-errors.js';
import type { ModelResolver } from './resolver.js';
import { predict, type PredictResponse } from './v1-protocol.js';
import { infer, type InferRequest, type InferResponse } from './v2-protocol.js';

/** Why a fallback answered, and for which version: a v2 answer's `parameters` say it (`fallback`, `fallback_reason`, `fallback_from`). */
export interface FallbackMark {
  readonly reason: FallbackReason;
  readonly from: number;
}

/** A v2 answer marked as a fallback's: `parameters.fallback` (true), `fallback_reason` and `fallback_from` (the version that could not answer). */
export const markV2 = (body: InferResponse, mark: FallbackMark): InferResponse => ({
  ...body,
  parameters: { ...body.parameters, fallback: true, fallback_reason: mark.reason, fallback_from: String(mark.from) },
});

/** What a request is served by. */
export interface ServeTarget {
  readonly model: string;
  /** A version number or an alias, as a path segment names it. @default - the model's default alias */
  readonly version?: string;
  /** Keeps a caller on one variant of a split alias (`x-routing-key`). @default - a random pick by weight */
  readonly routingKey?: string;
  /** Names the request in shadow copies. @default - a random UUID */
  readonly requestId?: string;
}

/** An answer and who gave it: the version's model, and the fallback mark when the alias's fallback answered. */
export interface Served<T> {
  readonly model: ServedModel;
  readonly body: T;
  readonly fallback?: FallbackMark;
}

/** What serving needs. */
export interface ServingDeps {
  readonly resolver: ModelResolver;
  /** What answers a version, by its backend (`ServingBackends`). */
  readonly backends: Backend;
  /**
   * Where per-version counters and shadow copies go.
   *
   * @default - none: no counters (rollout guards see no traffic) and no shadow copies
   */
  readonly telemetry?: ServingTelemetry;
  /** Decides which requests are copied to a shadow version. @default Math.random */
  readonly random?: () => number;
}

/** How a request that reached a version ended, for its counters. */
const outcomeOf = (error: unknown): Outcome => (error instanceof PlatformError && error.refusal ? 'rejected' : 'failed');

/** The inference path every entry point shares ({@link createServing}). */
export interface Serving {
  /**
   * Answers a request with the version its alias picks (`answer` runs the protocol on it), counts
   * how that went for the version, and copies a sample of `request` to the alias's shadow version
   * (none when `request` is undefined). While the picked version's backend cannot answer (not
   * ready, breaker open) or when it fails the request, the alias's fallback answers, marked by
   * `mark` and counted as a fallback of the picked version; without a fallback, the error (a 503
   * with its retry delay) is thrown.
   */
  serve<T>(target: ServeTarget, protocol: ShadowProtocol, request: unknown, answer: (model: ServedModel) => Promise<T>, mark: (body: T, fallback: FallbackMark) => T): Promise<Served<T>>;
  /** An Open Inference Protocol v2 request, served ({@link Serving.serve}). */
  infer(target: ServeTarget, request: InferRequest): Promise<Served<InferResponse>>;
  /** A KServe v1 `:predict` body, served ({@link Serving.serve}); v1 answers carry no fallback mark. */
  predict(target: ServeTarget, body: unknown): Promise<Served<PredictResponse>>;
  /** Writes the counters and shadow copies that are due. */
  flushIfDue(): Promise<void>;
}

/** The inference path over a resolver, backends and telemetry. */
export function createServing({ resolver, backends, telemetry, random = Math.random }: ServingDeps): Serving {
  /**
   * Runs `answer` on a version and counts how that went for it. A version whose backend cannot
   * answer now is not counted here when `fallsBack`: the caller counts it as a fallback.
   */
  const attempt = async <T>(version: ModelVersion, alias: string | undefined, answer: (model: ServedModel) => Promise<T>, fallsBack: boolean) => {
    // The version's own time: its answer, not registry reads or a first load.
    let started: number | undefined;
    try {
      const model = await backends.open(version);
      started = performance.now();
      const body = await answer(model);
      telemetry?.record(version.model, alias, version.version, 'ok', performance.now() - started);
      return { model, body };
    } catch (error) {
      if (!(fallsBack && isFallbackCase(error))) {
        telemetry?.record(version.model, alias, version.version, outcomeOf(error), started === undefined ? undefined : performance.now() - started);
        await telemetry?.flushIfDue();
      }
      throw error;
    }
  };

  const serve: Serving['serve'] = async (target, protocol, request, answer, mark) => {
    const selector = target.version === undefined ? undefined : parseVersionSelector(target.version);
    const { version, alias, shadow, fallback } = await resolver.resolve(assertModelName(target.model), selector, target.routingKey);
    let answered: { model: ServedModel; body: Awaited<ReturnType<typeof answer>> };
    try {
      answered = await attempt(version, alias, answer, fallback !== undefined);
    } catch (error) {
      if (fallback === undefined || !isFallbackCase(error)) throw error;
      // A fallback that cannot be resolved or stand in (changed meanwhile) leaves the caller with the primary's error.
      const standIn = await resolver.fallbackVersion(version, fallback, target.routingKey).catch(async () => {
        telemetry?.record(version.model, alias, version.version, outcomeOf(error), undefined);
        await telemetry?.flushIfDue();
        throw error;
      });
      telemetry?.record(version.model, alias, version.version, 'fallback', undefined);
      const marking = { reason: error.reason, from: version.version };
      const { model, body } = await attempt(standIn, alias, answer, false);
      await telemetry?.flushIfDue();
      return { model, body: mark(body, marking), fallback: marking };
    }
    const { model, body } = answered;
    if (telemetry === undefined) return { model, body };
    if (alias !== undefined && shadow !== undefined && request !== undefined && random() * 100 < shadow.percent) {
      telemetry.offerShadow({
        model: version.model,
        alias,
        requestId: target.requestId ?? randomUUID(),
        at: new Date().toISOString(),
        protocol,
        request,
        primary: { version: version.version, response: body },
        shadowVersion: shadow.version,
      });
    }
    await telemetry.flushIfDue();
    return { model, body };
  };

  return {
    serve,
    infer: (target, request) => serve(target, 'v2', request, (model) => infer(model, request), markV2),
    predict: (target, body) => serve(target, 'v1', body, (model) => predict(model, body), (answer) => answer),
    flushIfDue: async () => telemetry?.flushIfDue(),
  };
}
