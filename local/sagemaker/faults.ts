/** Faults injected into endpoints (admin API): what each endpoint's invocations suffer. */
import * as z from 'zod/mini';

/** What `PUT /_emulator/endpoints/{name}/faults` takes. */
export const faultsSchema = z.strictObject({
  /** The container answers this status and body (a `ModelError` to the caller). */
  error: z.optional(z.nullable(z.strictObject({ status: z.number().check(z.int(), z.gte(400), z.lte(599)), body: z.optional(z.string()), contentType: z.optional(z.string()) }))),
  /** The runtime throttles every invocation (`ThrottlingException`). */
  throttle: z.optional(z.boolean()),
  /** Added before every invocation is forwarded. */
  latencyMs: z.optional(z.number().check(z.int(), z.gte(0), z.lte(600_000))),
});

/** The faults of one endpoint. */
export type EndpointFaults = z.infer<typeof faultsSchema>;

/** Faults by endpoint name. */
export class Faults {
  private readonly byEndpoint = new Map<string, EndpointFaults>();

  /** Merges new faults into an endpoint's (`error: null` clears the error). */
  set(endpoint: string, faults: EndpointFaults): EndpointFaults {
    const merged = { ...this.byEndpoint.get(endpoint), ...faults };
    if (merged.error === null) delete merged.error;
    this.byEndpoint.set(endpoint, merged);
    return merged;
  }

  clear(endpoint: string): void {
    this.byEndpoint.delete(endpoint);
  }

  of(endpoint: string): EndpointFaults {
    return this.byEndpoint.get(endpoint) ?? {};
  }
}
