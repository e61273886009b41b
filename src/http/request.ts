import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import '../validation/zod.js';
import { isBinaryMediaType } from '../../topology/binary-media-types.js';
import { BINARY_MEDIA_TYPES, MAX_PAYLOAD_BYTES } from '../../topology/limits.js';
import { InvalidRequestError, quote, RevisionMismatchError } from '../errors.js';
import { parseOwnJson, refuseByteOrderMark } from '../validation/own-json.js';
import { parseWith } from '../validation/strict-parse.js';
import { loneSurrogate } from '../validation/unicode.js';
import { PayloadTooLargeError, PreconditionRequiredError, UnsupportedMediaTypeError } from './errors.js';

/** A header value, looked up case-insensitively (API Gateway keeps the client's casing). */
export function header(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/**
 * Headers a request carries once: the body's framing and coding, and the platform's own. Sent
 * twice, the request is ambiguous (two `Content-Encoding` lines mean both codings; two header
 * lengths, two inputs, two keys), and API Gateway's `headers` would keep only the last.
 */
const SINGLE_HEADERS = ['content-type', 'content-encoding', 'inference-header-content-length', 'x-input-location', 'idempotency-key'];

/**
 * Refuses (400) a request that repeats a header it must send once ({@link SINGLE_HEADERS}),
 * quoting the values: `multiValueHeaders` has them all, under each casing the client used.
 */
export function refuseRepeatedHeaders(event: Pick<APIGatewayProxyEvent, 'multiValueHeaders'>): void {
  const values = new Map<string, string[]>();
  for (const [key, list] of Object.entries(event.multiValueHeaders ?? {})) {
    const name = key.toLowerCase();
    if (SINGLE_HEADERS.includes(name)) values.set(name, [...(values.get(name) ?? []), ...(list ?? [])]);
  }
  for (const [name, sent] of values) {
    if (sent.length > 1) throw new InvalidRequestError(`${name} was sent ${sent.length} times (${sent.map((value) => quote(headerText(value))).join(', ')}); send it once`);
  }
}

/**
 * A header value as the client wrote it: header bytes reach the function one character per byte
 * (Latin-1), so a value sent as UTF-8 (`clé`) reads as mojibake (`clÃ©`); decoded back here for
 * messages that quote it (a value that is not UTF-8 is shown as received).
 */
export function headerText(value: string): string {
  const bytes = Buffer.from(value, 'latin1');
  // Plain ASCII needs no decoding; a character beyond Latin-1 means the value was decoded already.
  if (!/[\x80-\xff]/.test(value) || bytes.toString('latin1') !== value) return value;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return value;
  }
}

/** Whether a content type denotes JSON (`application/json`, `application/x+json`, with parameters). */
export function isJsonContentType(contentType: string): boolean {
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || (mediaType.startsWith('application/') && mediaType.endsWith('+json'));
}

/** The `charset` parameter of a content type, unquoted and lower-cased, if it has one. */
function charsetOf(contentType: string): string | undefined {
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  return match === null ? undefined : (match[1] ?? match[2]!).toLowerCase();
}

/**
 * Checks how a JSON body is encoded before reading it (RFC 9110 §15.5.16: a content coding or a
 * media-type parameter the server does not support is a 415): JSON is exchanged as UTF-8
 * (RFC 8259 §8.1), so a `charset` other than UTF-8 and any `Content-Encoding` but `identity`
 * are refused, naming what was sent. `what` names the body in the messages (an uploaded input
 * is held to the same rules as a request body).
 */
export function checkJsonEncoding(contentType: string | undefined, contentEncoding: string | undefined, what = 'the JSON body'): void {
  const charset = contentType === undefined ? undefined : charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new UnsupportedMediaTypeError(contentType, `charset ${quote(charset)} is not supported; send ${what} as UTF-8 (charset=utf-8, or no charset)`);
  }
  refuseContentCoding(contentType, contentEncoding, what);
}

/**
 * Refuses a body sent with a content coding (RFC 9110 §8.4): bodies are read as sent, so a
 * `Content-Encoding` other than `identity` would be read as data (gzip bytes as JSON text or as
 * tensor values). `what` names the body in the message.
 *
 * @throws UnsupportedMediaTypeError (415) naming the coding.
 */
export function refuseContentCoding(contentType: string | undefined, contentEncoding: string | undefined, what: string): void {
  const coding = contentEncoding?.trim().toLowerCase();
  if (coding !== undefined && coding !== '' && coding !== 'identity') {
    throw new UnsupportedMediaTypeError(contentType, `Content-Encoding ${quote(coding)} is not supported; send ${what} uncompressed (identity)`);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The text of a body API Gateway passed as bytes (base64): strict UTF-8, 400 naming the offset
 * of the first byte that is not. (A body API Gateway passed as text was already decoded by it.)
 */
function decodeUtf8(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    // The first byte no valid continuation can follow (binary search over prefixes that may end
    // mid-sequence), then back to where its sequence began: the longest prefix that decodes whole.
    let failing = bytes.length;
    for (let low = 0, high = bytes.length; low < high; ) {
      const middle = Math.floor((low + high) / 2);
      if (isUtf8Prefix(bytes.subarray(0, middle + 1))) low = middle + 1;
      else high = failing = middle;
    }
    let valid = failing;
    while (valid > 0 && failing - valid < 3 && !isUtf8(bytes.subarray(0, valid))) valid--;
    throw new InvalidRequestError(`request body is not valid UTF-8 (byte ${valid}); JSON must be sent as UTF-8 (RFC 8259 §8.1)`);
  }
}

/** Whether `bytes` are valid UTF-8, or (with `cutShort`) would be but for a sequence cut short at their end. */
function isUtf8(bytes: Buffer, cutShort = false): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: cutShort });
    return true;
  } catch {
    return false;
  }
}

const isUtf8Prefix = (bytes: Buffer): boolean => isUtf8(bytes, true);

/** The widest tensor element (8 bytes): data aligned to it can be viewed as any element type. */
const ALIGNMENT = 8;

/**
 * The bytes of a binary body (a media type API Gateway passes as bytes: `BINARY_MEDIA_TYPES`,
 * base64 in the event): 415 when it reached the function as text, i.e. was not sent as one of
 * those types (API Gateway would have decoded its bytes as UTF-8, damaging them) or with a
 * content coding; 400 when it is empty; 413 above the payload limit. With `alignedAt`, that byte of the body lies on an 8-byte boundary.
 */
export function readBinaryBody(
  event: Pick<APIGatewayProxyEvent, 'headers' | 'body' | 'isBase64Encoded'>,
  what: string,
  options: { readonly alignedAt?: number; readonly limitBytes?: number } = {},
): Buffer {
  const { alignedAt = 0, limitBytes = MAX_PAYLOAD_BYTES } = options;
  // No bytes at all: say so (a gateway may pass an empty body as text, whatever its content type).
  if (event.body === null || event.body === '') throw new InvalidRequestError(`${what} has an empty body`);
  if (!event.isBase64Encoded) {
    const contentType = header(event, 'content-type');
    throw new UnsupportedMediaTypeError(
      contentType,
      `${what} must be sent with content-type ${BINARY_MEDIA_TYPES.join(' or ')} (the types API Gateway passes as bytes), got ${contentType === undefined ? 'none' : quote(contentType)}`,
    );
  }
  refuseContentCoding(header(event, 'content-type'), header(event, 'content-encoding'), 'the body');
  // Decoded where byte `alignedAt` (where tensor data starts) falls on an 8-byte boundary, so
  // tensors can be read in place rather than copied to align them.
  const text = event.body ?? '';
  const room = Buffer.allocUnsafeSlow(Math.ceil((text.length * 3) / 4) + ALIGNMENT);
  const start = (ALIGNMENT - ((room.byteOffset + alignedAt) % ALIGNMENT)) % ALIGNMENT;
  const bytes = room.subarray(start, start + room.write(text, start, 'base64'));
  if (bytes.length > limitBytes) throw new PayloadTooLargeError(limitBytes, bytes.length);
  return bytes;
}

/** Whether the request's first `Accept` value (the one API Gateway decides by) takes one of the binary media types. */
export function acceptsBinary(event: Pick<APIGatewayProxyEvent, 'headers'>): boolean {
  return isBinaryMediaType(header(event, 'accept'), BINARY_MEDIA_TYPES);
}

/** Whether the request's content type is one API Gateway passes as bytes. */
export function isBinaryBody(event: Pick<APIGatewayProxyEvent, 'headers'>): boolean {
  return isBinaryMediaType(header(event, 'content-type'), BINARY_MEDIA_TYPES);
}

/**
 * Reads the JSON body of an API Gateway event: 415 if it is not declared as JSON or is encoded
 * other than as UTF-8 without compression, 413 above the payload limit, 400 if it is empty, is
 * not UTF-8, starts with a byte-order mark (which RFC 8259 §8.1 forbids senders to add) or does
 * not parse. Its objects are prototype-free (a key like `constructor` or `__proto__` is plain data).
 */
export function parseJsonBody(event: Pick<APIGatewayProxyEvent, 'headers' | 'body' | 'isBase64Encoded'>, limitBytes = MAX_PAYLOAD_BYTES): unknown {
  const contentType = header(event, 'content-type');
  if (contentType === undefined || !isJsonContentType(contentType)) throw new UnsupportedMediaTypeError(contentType);
  checkJsonEncoding(contentType, header(event, 'content-encoding'));
  const raw = event.isBase64Encoded && event.body !== null ? decodeUtf8(Buffer.from(event.body, 'base64')) : event.body;
  const size = raw === null ? 0 : Buffer.byteLength(raw, 'utf8');
  if (size > limitBytes) throw new PayloadTooLargeError(limitBytes, size);
  if (raw === null || /^\s*$/.test(raw)) throw new InvalidRequestError('request body is empty; expected a JSON object');
  refuseByteOrderMark(raw, 'request body');
  try {
    return parseOwnJson(raw);
  } catch (error) {
    throw new InvalidRequestError(`malformed JSON body: ${(error as Error).message}`);
  }
}

/**
 * The one way a route reads its body: JSON with prototype-free objects, validated strictly
 * against `schema` (400 naming any field it does not know, at any depth). A request without a
 * body (no bytes, whatever its content type) reads as `{}` when the schema takes `{}`, i.e. when
 * every field of the body is optional (`POST …/rollback`, `POST …/rollout/pause`); otherwise it is
 * refused as any body that is not JSON (415 without a JSON content type, 400 when empty).
 */
export function parseBody<S extends z.ZodMiniType>(event: Pick<APIGatewayProxyEvent, 'headers' | 'body' | 'isBase64Encoded'>, schema: S, what: string): z.infer<S> {
  const bodiless = event.body === null || event.body === '';
  if (bodiless && z.safeParse(schema, {}).success) return parseWith(schema, {}, what);
  const parsed = parseWith(schema, parseJsonBody(event), what);
  assertEncodable(parsed, what);
  return parsed;
}

/**
 * 400 for a string (value or key) with an unpaired surrogate: it has no UTF-8 encoding, so the
 * registry would store U+FFFD (or refuse it) and a later read would not give back what was sent.
 */
function assertEncodable(value: unknown, what: string): void {
  const pending: [unknown, string][] = [[value, '']];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, path] = next;
    if (typeof item === 'string') {
      const lone = loneSurrogate(item);
      if (lone !== undefined) throw new InvalidRequestError(`invalid ${what}: ${path === '' ? 'the body' : path} contains an unpaired surrogate (${lone.unit}) at position ${lone.index}, which UTF-8 cannot encode`);
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, child] of Object.entries(item)) {
        const at = path === '' ? key : `${path}.${key}`;
        const lone = loneSurrogate(key);
        if (lone !== undefined) throw new InvalidRequestError(`invalid ${what}: the key ${quote(at)} contains an unpaired surrogate (${lone.unit}), which UTF-8 cannot encode`);
        pending.push([child, at]);
      }
    }
  }
}

const NO_FIELDS = z.strictObject({});

/** For a route that takes no body: it may be left out or `{}`; a field is a 400 rather than ignored. */
export function parseNoBody(event: Pick<APIGatewayProxyEvent, 'headers' | 'body' | 'isBase64Encoded'>, what: string): void {
  parseBody(event, NO_FIELDS, what);
}

/** Paging options of a list request: `?limit=1..100&cursor=…`. */
export function pageOf(event: Pick<APIGatewayProxyEvent, 'queryStringParameters'>): { limit?: number; cursor?: string } {
  const query = event.queryStringParameters ?? {};
  const limit = query['limit'];
  if (limit !== undefined && !/^(100|[1-9][0-9]?)$/.test(limit)) throw new InvalidRequestError(`invalid limit ${quote(limit)}: expected 1-100`);
  return {
    ...(limit === undefined ? {} : { limit: Number(limit) }),
    ...(query['cursor'] === undefined ? {} : { cursor: query['cursor'] }),
  };
}

/** Highest revision an `If-Match` can name: revisions count changes one by one, as JavaScript integers. */
const MAX_REVISION = Number.MAX_SAFE_INTEGER;

/**
 * The `If-Match` revision of a conditional write, if any. ETags are strong, the revision in plain
 * digits within quotes (`"3"`; `"0"`: the resource does not exist yet), and `If-Match` compares
 * them strongly (RFC 9110 §13.1.1): a well-formed entity-tag no revision is written as — weak
 * (`W/"3"`), with a leading zero (`"03"`), beyond any revision or not a number — never matches
 * (412, quoting what was sent). A header that is not one entity-tag (unquoted `3`, a list) is a
 * 400 saying how to write it; `*` is refused on purpose (400): a change names the revision it was
 * computed from, so it is never blind.
 */
export function expectedRevision(event: Pick<APIGatewayProxyEvent, 'headers'>): number | undefined {
  const value = header(event, 'if-match');
  if (value === undefined) return undefined;
  const field = value.trim();
  if (field === '*') {
    throw new InvalidRequestError('If-Match: * is not accepted: send the revision you read (the ETag, e.g. "3"; "0" to create), so that a change is never blind');
  }
  const tag = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/.exec(field);
  if (tag === null) throw new InvalidRequestError(`invalid If-Match ${quote(value)}: send one entity-tag, the ETag as given with its quotes, e.g. If-Match: "3"`);
  const [, weak, opaque] = tag as unknown as [string, string | undefined, string];
  if (weak !== undefined) {
    throw new RevisionMismatchError(`If-Match ${quote(field)} never matches: a weak entity-tag never does (If-Match compares strongly, RFC 9110 §13.1.1); send the ETag as given, e.g. "3"`);
  }
  if (!/^(0|[1-9][0-9]*)$/.test(opaque) || Number(opaque) > MAX_REVISION) {
    throw new RevisionMismatchError(`If-Match ${quote(field)} matches no revision: ETags are revisions from "0" to "${MAX_REVISION}" in plain digits, as the ETag header gives them`);
  }
  return Number(opaque);
}

/** Who made a request: the IAM caller in AWS, else the API key id, else the source address. */
export function callerOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): string {
  const identity = event.requestContext?.identity;
  return identity?.userArn ?? identity?.apiKeyId ?? identity?.sourceIp ?? 'unknown';
}

/** The `If-Match` revision of a change that must be conditional: 428 when it is missing (the message offers "0" when the change `creates` the resource). */
export function requiredRevision(event: Pick<APIGatewayProxyEvent, 'headers'>, what: string, { creates = false } = {}): number {
  const revision = expectedRevision(event);
  if (revision === undefined) {
    throw new PreconditionRequiredError(`${what} needs If-Match with the revision you read (the ETag${creates ? '; "0" to create' : ''}): changes are never blind`);
  }
  return revision;
}
