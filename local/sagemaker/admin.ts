/**
 * The emulator's admin API (not AWS's), for tests and walkthroughs, under `/_emulator/`:
 *
 * - `GET|PUT /_emulator/delays`: the timings (`settings.ts`); PUT merges the given ones.
 * - `GET /_emulator/endpoints`: every endpoint's name and status.
 * - `GET /_emulator/endpoints/{name}`: status, faults, and each container's URL (its Triton
 *   `/invocations` can be called directly) and whether it runs.
 * - `PUT /_emulator/endpoints/{name}/faults`: `{"error": {"status", "body"?, "contentType"?} | null,
 *   "throttle": boolean, "latencyMs": n}`, merged into the endpoint's faults;
 *   `DELETE` clears them.
 * - `POST /_emulator/endpoints/{name}/crash`: `{"replaceAfterMs"?: n}` kills the endpoint's
 *   containers (its variants' and its inference components'); each is replaced after
 *   `replaceAfterMs` (default: the `instanceReplacementMs` delay). The endpoint stays InService.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod/mini';
import { readBody } from './aws-protocol.js';
import type { ControlPlane } from './control-plane.js';
import { faultsSchema, type Faults } from './faults.js';
import type { HostedModel } from './hosting.js';
import { DELAY_NAMES, type EmulatorDelays } from './settings.js';

/** Path prefix of the admin API. */
export const ADMIN_PREFIX = '/_emulator/';

const delaysSchema = z.strictObject(Object.fromEntries(DELAY_NAMES.map((delay) => [delay, z.optional(z.number().check(z.int(), z.gte(0)))])));
const crashSchema = z.strictObject({ replaceAfterMs: z.optional(z.number().check(z.int(), z.gte(0))) });

class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What the admin API acts on. */
export interface AdminContext {
  readonly control: ControlPlane;
  readonly faults: Faults;
  readonly delays: () => EmulatorDelays;
  readonly setDelays: (delays: Partial<EmulatorDelays>) => EmulatorDelays;
}

async function jsonBody(request: IncomingMessage): Promise<unknown> {
  const text = (await readBody(request)).toString('utf8');
  try {
    return text === '' ? {} : JSON.parse(text);
  } catch {
    throw new AdminError(400, 'the body is not JSON');
  }
}

function parse<T>(schema: z.ZodMiniType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new AdminError(400, parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '));
  return parsed.data;
}

/** The containers of an endpoint, by variant or inference component name. */
function containersOf(control: ControlPlane, endpoint: string): Map<string, HostedModel> {
  const record = control.endpoints.get(endpoint);
  if (record === undefined) throw new AdminError(404, `no endpoint '${endpoint}'`);
  const containers = new Map(record.hosts);
  for (const component of control.components.values()) {
    if (component.endpointName === endpoint && component.host !== undefined) containers.set(component.name, component.host);
  }
  return containers;
}

async function route(context: AdminContext, method: string, path: string, request: IncomingMessage): Promise<unknown> {
  if (path === 'delays') {
    if (method === 'GET') return context.delays();
    if (method === 'PUT') return context.setDelays(parse(delaysSchema, await jsonBody(request)) as Partial<EmulatorDelays>);
  }
  if (path === 'endpoints' && method === 'GET') {
    return [...context.control.endpoints.values()].map((endpoint) => ({ name: endpoint.name, status: endpoint.status }));
  }
  const match = /^endpoints\/([^/]+)(?:\/(faults|crash))?$/.exec(path);
  if (match !== null) {
    const endpoint = decodeURIComponent(match[1]!);
    const containers = containersOf(context.control, endpoint);
    switch (`${method} ${match[2] ?? ''}`) {
      case 'GET ':
        return {
          status: context.control.endpoints.get(endpoint)!.status,
          faults: context.faults.of(endpoint),
          containers: Object.fromEntries([...containers].map(([name, host]) => [name, { url: host.url, running: host.alive }])),
        };
      case 'PUT faults':
        return context.faults.set(endpoint, parse(faultsSchema, await jsonBody(request)));
      case 'DELETE faults':
        context.faults.clear(endpoint);
        return {};
      case 'POST crash': {
        const { replaceAfterMs } = parse(crashSchema, await jsonBody(request));
        containers.forEach((host) => host.crash(replaceAfterMs ?? context.delays().instanceReplacementMs));
        return { crashed: [...containers.keys()] };
      }
    }
  }
  throw new AdminError(404, `no admin route ${method} ${ADMIN_PREFIX}${path}`);
}

/** Answers an admin request (its path starts with {@link ADMIN_PREFIX}). */
export async function handleAdmin(context: AdminContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '').split('?')[0]!.slice(ADMIN_PREFIX.length);
  try {
    const result = await route(context, request.method ?? 'GET', path, request);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
  } catch (error) {
    const status = error instanceof AdminError ? error.status : 500;
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (error as Error).message }));
  }
}
