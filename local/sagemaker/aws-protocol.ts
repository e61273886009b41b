/**
 * The AWS wire conventions the emulator answers with: JSON bodies, errors the SDK's JSON
 * protocols parse (`x-amzn-ErrorType` and `__type`, plus `x-amzn-query-error` for CloudWatch's
 * query-compatible JSON), Coral-style validation messages, epoch-second timestamps.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type * as z from 'zod/mini';

/** An error answered to an SDK call: status, error code, message and extra members. */
export class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly members: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = code;
  }
}

/** SageMaker's and Application Auto Scaling's `ValidationException` (400). */
export const validationException = (message: string) => new AwsError(400, 'ValidationException', message);

/** How an operation's answer is framed. */
export interface Framing {
  /** Response content type (`application/x-amz-json-1.1`…). */
  readonly contentType: string;
  /** CloudWatch's awsQuery-compatible JSON: errors also carry `x-amzn-query-error: Code;Sender|Receiver`. */
  readonly queryCompatible?: boolean;
}

/** Reads a request body. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Answers a successful call. */
export function sendResult(response: ServerResponse, framing: Framing, result: unknown): void {
  response.writeHead(200, { 'content-type': framing.contentType, 'x-amzn-requestid': randomUUID() }).end(JSON.stringify(result));
}

/** Answers an error as the SDK's JSON protocols read it. */
export function sendError(response: ServerResponse, framing: Framing, error: AwsError): void {
  const headers: Record<string, string> = { 'content-type': framing.contentType, 'x-amzn-errortype': error.code, 'x-amzn-requestid': randomUUID() };
  if (framing.queryCompatible === true) headers['x-amzn-query-error'] = `${error.code};${error.status >= 500 ? 'Receiver' : 'Sender'}`;
  response.writeHead(error.status, headers).end(JSON.stringify({ __type: error.code, Message: error.message, ...error.members }));
}

/** Seconds since the epoch, as AWS JSON protocols write timestamps. */
export const epochSeconds = (date: Date) => date.getTime() / 1000;

const memberPath = (path: readonly PropertyKey[]) =>
  path.map((step) => (typeof step === 'number' ? `${step + 1}.member` : String(step).charAt(0).toLowerCase() + String(step).slice(1))).join('.');

const shown = (value: unknown) => (value === undefined ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`);

/**
 * Parses an operation's input; a mismatch is a `ValidationException` worded as AWS's Coral
 * validation words it (`1 validation error detected: Value 'x' at 'endpointName' failed to
 * satisfy constraint: Member must …`). Schemas give each check its constraint text.
 */
export function parseInput<T extends z.ZodMiniType>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const value = (issue as { input?: unknown }).input;
    const constraint = issue.code === 'invalid_type' && value === undefined ? 'Member must not be null' : issue.message;
    return `Value ${shown(value)} at '${memberPath(issue.path)}' failed to satisfy constraint: ${constraint}`;
  });
  throw validationException(`${problems.length} validation error${problems.length === 1 ? '' : 's'} detected: ${problems.join('; ')}`);
}
