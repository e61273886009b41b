import { Agent, request as httpRequest } from 'node:http';
import type { RouteSpec } from '../../topology/spec.js';
import { fuzzRequest, type FuzzContext, type FuzzRequest } from './requests.js';

/** Settings of one fuzz run. */
export interface FuzzOptions {
  /** Base URL of the gateway under test; must be on loopback. */
  readonly baseUrl: string;
  readonly routes: readonly RouteSpec[];
  readonly context: FuzzContext;
  readonly seed: number;
  readonly requests: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Longest wait for one answer before it counts as a failure. */
  readonly timeoutMs: number;
}

/** A request the platform answered with a 5xx, or that ended without an answer (reset, hang-up, timeout). */
export interface FuzzFailure {
  readonly request: FuzzRequest;
  /** The status, or `undefined` when no answer came. */
  readonly status?: number;
  /** The start of the answer's body, or the connection error. */
  readonly detail: string;
}

/** What a run found. */
export interface FuzzReport {
  readonly seed: number;
  readonly requests: number;
  /** Answers by status (`error` for requests that got none, `not sent` for those the HTTP client refused to send). */
  readonly byStatus: Readonly<Record<string, number>>;
  readonly failures: readonly FuzzFailure[];
}

const DETAIL_CHARS = 500;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

type Outcome = { readonly status: number; readonly body: string } | { readonly error: string } | { readonly notSent: string };

function send(agent: Agent, base: URL, fuzz: FuzzRequest, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const bodyBytes = fuzz.body === undefined ? undefined : Buffer.from(fuzz.body, 'utf8');
    let req: ReturnType<typeof httpRequest>;
    try {
      req = httpRequest({
        agent,
        host: base.hostname,
        port: base.port,
        method: fuzz.method,
        path: fuzz.path,
        headers: { ...fuzz.headers, ...(bodyBytes === undefined ? {} : { 'content-length': String(bodyBytes.length) }) },
        timeout: timeoutMs,
      });
    } catch (error) {
      // The HTTP client itself refused to send it (e.g. an invalid header): not the platform's doing.
      resolve({ notSent: (error as Error).message });
      return;
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < DETAIL_CHARS) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, DETAIL_CHARS) }));
      res.on('error', (error) => resolve({ error: `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}` }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ error: `${(error as NodeJS.ErrnoException).code ?? 'ERROR'} ${error.message}` }));
    req.end(bodyBytes);
  });
}

/**
 * Sends `requests` generated requests with bounded concurrency and reports every
 * 5xx and every request that got no answer. Refuses any target but loopback.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const base = new URL(options.baseUrl);
  if (!LOOPBACK.has(base.hostname)) throw new Error(`the fuzzer only targets loopback, not ${base.hostname}`);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const byStatus: Record<string, number> = {};
  const failures: FuzzFailure[] = [];
  let next = 0;
  const worker = async () => {
    while (next < options.requests) {
      const fuzz = fuzzRequest(options.routes, options.context, options.seed, next++);
      const outcome = await send(agent, base, fuzz, options.timeoutMs);
      const key = 'error' in outcome ? 'error' : 'notSent' in outcome ? 'not sent' : String(outcome.status);
      byStatus[key] = (byStatus[key] ?? 0) + 1;
      if ('error' in outcome) failures.push({ request: fuzz, detail: outcome.error });
      else if ('status' in outcome && outcome.status >= 500) failures.push({ request: fuzz, status: outcome.status, detail: outcome.body });
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return { seed: options.seed, requests: options.requests, byStatus, failures: failures.sort((a, b) => a.request.index - b.request.index) };
}

const clip = (text: string, chars: number) => (text.length <= chars ? text : `${text.slice(0, chars)}… (${text.length} chars)`);

/** One line per failure: how to reproduce it, what was sent, what came back. */
export function describeFailure(failure: FuzzFailure, seed: number): string {
  const { request } = failure;
  const headers = Object.entries(request.headers)
    .filter(([name]) => name !== 'x-api-key')
    .map(([name, value]) => `${name}: ${clip(value, 60)}`)
    .join('; ');
  return [
    `#${request.index} (seed ${seed}) ${request.route}`,
    `  sent      ${request.method} ${clip(request.path, 200)}${headers === '' ? '' : `  [${headers}]`}`,
    ...(request.body === undefined ? [] : [`  body      ${clip(request.body, 300)}`]),
    `  answer    ${failure.status ?? 'no answer'} ${clip(failure.detail, 300)}`,
  ].join('\n');
}

/** The run's summary: counts by status, then every failure. */
export function formatReport(report: FuzzReport): string {
  const statuses = Object.entries(report.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ');
  const lines = [`fuzz: ${report.requests} requests, seed ${report.seed}`, `by status: ${statuses}`];
  const failuresByRoute = new Map<string, number>();
  for (const failure of report.failures) failuresByRoute.set(failure.request.route, (failuresByRoute.get(failure.request.route) ?? 0) + 1);
  lines.push(`failures (5xx or no answer): ${report.failures.length}`);
  for (const [route, count] of [...failuresByRoute].sort((a, b) => b[1] - a[1])) lines.push(`  ${count}\t${route}`);
  for (const failure of report.failures) lines.push('', describeFailure(failure, report.seed));
  return lines.join('\n');
}
