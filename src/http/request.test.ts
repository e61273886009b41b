import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { InvalidRequestError, RevisionMismatchError } from '../errors.js';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.js';
import { parseWith } from '../validation/strict-parse.js';
import { expectedRevision, header, headerText, parseBody, parseJsonBody, readBinaryBody, refuseRepeatedHeaders, requiredRevision } from './request.js';

const event = (body: string | null, contentType?: string, isBase64Encoded = false, headers: Record<string, string> = {}) => ({
  headers: { ...headers, ...(contentType === undefined ? {} : { 'Content-Type': contentType }) },
  body,
  isBase64Encoded,
});

describe('parseJsonBody', () => {
  it('parses JSON bodies with any JSON content type, case-insensitively', () => {
    expect(parseJsonBody(event('{"a":1}', 'application/json; charset=utf-8'))).toEqual({ a: 1 });
    expect(parseJsonBody(event('[1]', 'application/vnd.api+json'))).toEqual([1]);
    expect(parseJsonBody(event(Buffer.from('{"b":2}').toString('base64'), 'application/json', true))).toEqual({ b: 2 });
  });

  it('answers 415 for a missing or non-JSON content type', () => {
    expect(() => parseJsonBody(event('{}'))).toThrowError(UnsupportedMediaTypeError);
    expect(() => parseJsonBody(event('{}', 'text/plain'))).toThrowError("content-type must be application/json, got 'text/plain'");
  });

  it('answers 415 naming a charset other than UTF-8 or a content coding, rather than blaming the JSON (RFC 9110 §15.5.16)', () => {
    expect(parseJsonBody(event('{"a":1}', 'application/json; charset="UTF-8"'))).toEqual({ a: 1 });
    expect(parseJsonBody(event('{"a":1}', 'application/json', false, { 'Content-Encoding': 'identity' }))).toEqual({ a: 1 });
    expect(() => parseJsonBody(event('{}', 'application/json; charset=utf-16'))).toThrowError(UnsupportedMediaTypeError);
    expect(() => parseJsonBody(event('{}', 'application/json; charset=UTF-16'))).toThrowError("charset 'utf-16' is not supported; send the JSON body as UTF-8 (charset=utf-8, or no charset)");
    expect(() => parseJsonBody(event('\u001f\u008b', 'application/json', false, { 'content-encoding': 'gzip' }))).toThrowError(
      "Content-Encoding 'gzip' is not supported; send the JSON body uncompressed (identity)",
    );
  });

  it('answers 400 naming the offset of the first byte that is not UTF-8, when API Gateway passes the bytes', () => {
    const bytes = Buffer.concat([Buffer.from('{"s":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}')]);
    expect(() => parseJsonBody(event(bytes.toString('base64'), 'application/json', true))).toThrowError(
      'request body is not valid UTF-8 (byte 7); JSON must be sent as UTF-8 (RFC 8259 §8.1)',
    );
    const cut = Buffer.concat([Buffer.from('{"s":"é'), Buffer.from([0xc3]), Buffer.from('"}')]);
    expect(() => parseJsonBody(event(cut.toString('base64'), 'application/json', true))).toThrowError(/not valid UTF-8 \(byte 8\)/);
  });

  it('answers 400 saying so for a byte-order mark before the JSON', () => {
    expect(() => parseJsonBody(event('\uFEFF{"a":1}', 'application/json'))).toThrowError(/^request body starts with a byte-order mark \(U\+FEFF\)/);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')]).toString('base64');
    expect(() => parseJsonBody(event(bom, 'application/json', true))).toThrowError(/byte-order mark/);
  });

  it('answers 413 above the limit, naming both sizes', () => {
    expect(() => parseJsonBody(event('{"a":"0123456789"}', 'application/json'), 10)).toThrowError(PayloadTooLargeError);
    expect(() => parseJsonBody(event('{"a":"0123456789"}', 'application/json'), 10)).toThrowError(/18 bytes; the limit is 10 bytes/);
  });

  it('answers 400 for an empty or malformed body', () => {
    expect(() => parseJsonBody(event(null, 'application/json'))).toThrowError('request body is empty');
    expect(() => parseJsonBody(event('{bad', 'application/json'))).toThrowError(InvalidRequestError);
    expect(() => parseJsonBody(event('{bad', 'application/json'))).toThrowError(/^malformed JSON body/);
  });
});

describe('parseBody without a body', () => {
  const optional = z.strictObject({ reason: z.optional(z.string()) });
  const required = z.strictObject({ fileName: z.string() });

  it('reads no body as {} when every field is optional, with or without a content type', () => {
    expect(parseBody(event(null), optional, 'rollback')).toEqual({});
    expect(parseBody(event('', 'application/json'), optional, 'rollback')).toEqual({});
  });

  it('refuses no body when a field is required: 415 without a JSON content type, 400 with one', () => {
    expect(() => parseBody(event(null), required, 'upload')).toThrowError(UnsupportedMediaTypeError);
    expect(() => parseBody(event('', 'application/json'), required, 'upload')).toThrowError('request body is empty; expected a JSON object');
  });
});

describe('header', () => {
  it('finds headers whatever their casing', () => {
    expect(header({ headers: { 'X-Api-Key': 'k' } }, 'x-api-key')).toBe('k');
    expect(header({ headers: {} }, 'x-api-key')).toBeUndefined();
  });
});

describe('If-Match (RFC 9110 §13.1.1)', () => {
  const ifMatch = (value: string) => expectedRevision({ headers: { 'If-Match': value } });

  it('reads the strong entity-tag the ETag header gives ("3"; "0" to create)', () => {
    expect(ifMatch('"3"')).toBe(3);
    expect(ifMatch(' "0" ')).toBe(0);
    expect(ifMatch(`"${Number.MAX_SAFE_INTEGER}"`)).toBe(Number.MAX_SAFE_INTEGER);
    expect(expectedRevision({ headers: {} })).toBeUndefined();
  });

  it('never matches a weak entity-tag: 412', () => {
    expect(() => ifMatch('W/"3"')).toThrowError(RevisionMismatchError);
    expect(() => ifMatch('W/"3"')).toThrowError(`If-Match 'W/"3"' never matches: a weak entity-tag never does`);
  });

  it.each(['"03"', '"99999999999999999999"', '"-1"', '"abc"', '""'])('never matches %s, an entity-tag no revision is written as: 412 quoting it as sent', (value) => {
    expect(() => ifMatch(value)).toThrowError(RevisionMismatchError);
    expect(() => ifMatch(value)).toThrowError(`If-Match '${value}' matches no revision: ETags are revisions from "0" to "9007199254740991" in plain digits`);
  });

  it.each(['3', '"3', '"3", "4"', 'W/3'])('answers 400 saying how to write an entity-tag for %s', (value) => {
    expect(() => ifMatch(value)).toThrowError(InvalidRequestError);
    expect(() => ifMatch(value)).toThrowError(`invalid If-Match '${value}': send one entity-tag, the ETag as given with its quotes, e.g. If-Match: "3"`);
  });

  it('refuses * on purpose: a change names the revision it was computed from', () => {
    expect(() => ifMatch('*')).toThrowError(InvalidRequestError);
    expect(() => ifMatch('*')).toThrowError('If-Match: * is not accepted: send the revision you read');
  });
});

describe('parseWith', () => {
  it('returns parsed data or a 400 naming the offending fields', () => {
    const schema = z.object({ version: z.number().check(z.int()) });
    expect(parseWith(schema, { version: 2 }, 'alias')).toEqual({ version: 2 });
    expect(() => parseWith(schema, { version: 'x' }, 'alias')).toThrowError(/^invalid alias: version: /);
  });
});

describe('request values in errors', () => {
  it('quotes at most a short prefix of a request value, wherever a validator or a check echoes it', () => {
    // Prepare: a 5 MB unknown key (zod names it in its message and in the path) and a 5 MB If-Match.
    const huge = 'k'.repeat(5_000_000);
    const strict = z.strictObject({ tags: z.record(z.string(), z.string()) });
    const attempts = [
      () => parseWith(strict, { [huge]: 1 }, 'body'),
      () => parseWith(strict, { tags: { [huge]: 1 } }, 'body'),
      () => requiredRevision({ headers: { 'if-match': huge } }, 'this change'),
      () => parseJsonBody(event('{}', huge)),
    ];
    for (const attempt of attempts) {
      // Act
      let message = '';
      try {
        attempt();
      } catch (error) {
        message = (error as Error).message;
      }
      // Assess
      expect(message).toMatch(/kkk…'? \(50000\d\d characters\)/);
      expect(message.length).toBeLessThan(400);
    }
  });
});

describe('parseBody: text UTF-8 cannot carry', () => {
  it.each([
    ['a value', '{"tags":{"k":"\\ud800"}}', "invalid tags: tags.k contains an unpaired surrogate (\\ud800) at position 0, which UTF-8 cannot encode"],
    ['a key', '{"tags":{"a\\udc00":"v"}}', "invalid tags: the key 'tags.a\udc00' contains an unpaired surrogate (\\udc00), which UTF-8 cannot encode"],
  ])('refuses an unpaired surrogate in %s (400 naming where), instead of storing U+FFFD', (_, body, message) => {
    // Prepare
    const schema = z.object({ tags: z.record(z.string(), z.string()) });
    const event = { headers: { 'content-type': 'application/json' }, body, isBase64Encoded: false };

    // Act
    const parse = () => parseBody(event, schema, 'tags');

    // Assess
    expect(parse).toThrowError(InvalidRequestError);
    expect(parse).toThrowError(message);
  });

  it('keeps a paired surrogate (an emoji) as sent', () => {
    // Act
    const parsed = parseBody({ headers: { 'content-type': 'application/json' }, body: '{"tags":{"k":"\\ud83d\\ude00"}}', isBase64Encoded: false }, z.object({ tags: z.record(z.string(), z.string()) }), 'tags');

    // Assess
    expect(parsed.tags['k']).toBe('😀');
  });
});

describe('readBinaryBody', () => {
  const event = (bytes: Uint8Array, isBase64Encoded = true) => ({ headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(bytes).toString(isBase64Encoded ? 'base64' : 'latin1'), isBase64Encoded });

  it('gives the body\'s bytes, with the byte `alignedAt` on an 8-byte boundary', () => {
    // Prepare
    const bytes = Uint8Array.from({ length: 103 }, (_, i) => (i * 7) % 256);

    // Act
    const read = [0, 1, 5, 13].map((alignedAt) => ({ alignedAt, body: readBinaryBody(event(bytes), 'a body', { alignedAt }) }));

    // Assess
    for (const { alignedAt, body } of read) {
      expect([...body]).toEqual([...bytes]);
      expect((body.byteOffset + alignedAt) % 8).toBe(0);
    }
  });

  it('refuses a body that reached the function as text (415) and one over the limit (413)', () => {
    expect(() => readBinaryBody(event(Uint8Array.of(1), false), 'a body')).toThrowError('a body must be sent with content-type application/octet-stream');
    expect(() => readBinaryBody(event(new Uint8Array(10)), 'a body', { limitBytes: 9 })).toThrowError('request body is 10 bytes; the limit is 9 bytes');
  });

  it('refuses a compressed body (415) rather than read its bytes as data, and takes identity', () => {
    // Prepare
    const compressed = { ...event(Uint8Array.of(0x1f, 0x8b, 8, 0)), headers: { 'content-type': 'application/octet-stream', 'Content-Encoding': 'gzip' } };
    const identity = { ...event(Uint8Array.of(1, 2)), headers: { 'content-type': 'application/octet-stream', 'content-encoding': 'identity' } };

    // Act
    const refused = (() => {
      try {
        readBinaryBody(compressed, 'a body');
      } catch (error) {
        return error as { statusCode?: number; message: string };
      }
    })();

    // Assess
    expect(refused).toMatchObject({ statusCode: 415, message: "Content-Encoding 'gzip' is not supported; send the body uncompressed (identity)" });
    expect([...readBinaryBody(identity, 'a body')]).toEqual([1, 2]);
  });

  it('refuses an empty body as empty (400), however the gateway passed it', () => {
    for (const isBase64Encoded of [true, false]) {
      expect(() => readBinaryBody(event(new Uint8Array(0), isBase64Encoded), 'a binary inference request')).toThrowError('a binary inference request has an empty body');
    }
  });
});

describe('refuseRepeatedHeaders', () => {
  it('takes headers sent once, and repeated headers that may be lists (Accept, Prefer)', () => {
    expect(() => refuseRepeatedHeaders({ multiValueHeaders: { 'Idempotency-Key': ['k1'], accept: ['application/json', 'text/plain'], Prefer: ['respond-async', 'wait=5'] } })).not.toThrow();
    expect(() => refuseRepeatedHeaders({ multiValueHeaders: {} })).not.toThrow();
  });

  it.each([
    ['idempotency-key', { 'idempotency-key': ['x1', 'x2'] }, "idempotency-key was sent 2 times ('x1', 'x2'); send it once"],
    ['idempotency-key under two casings', { 'Idempotency-Key': ['x1'], 'idempotency-key': ['x2'] }, "idempotency-key was sent 2 times ('x1', 'x2'); send it once"],
    ['content-encoding (gzip then identity: a gzip body)', { 'content-encoding': ['gzip', 'identity'] }, "content-encoding was sent 2 times ('gzip', 'identity'); send it once"],
    ['two header lengths', { 'Inference-Header-Content-Length': ['5', '418'] }, "inference-header-content-length was sent 2 times ('5', '418'); send it once"],
    ['two inputs', { 'x-input-location': ['a', 'b'] }, "x-input-location was sent 2 times ('a', 'b'); send it once"],
    ['two content types', { 'Content-Type': ['application/octet-stream', 'application/octet-stream'] }, 'content-type was sent 2 times'],
  ])('answers 400 for %s', (_, multiValueHeaders, message) => {
    expect(() => refuseRepeatedHeaders({ multiValueHeaders })).toThrowError(message);
  });
});

describe('headerText', () => {
  it('decodes a value that arrived as Latin-1 characters of UTF-8 bytes back to what the client wrote', () => {
    expect(headerText(Buffer.from('clé', 'utf8').toString('latin1'))).toBe('clé');
    expect(headerText('plain')).toBe('plain');
  });

  it('shows a value that is not UTF-8 as received', () => {
    expect(headerText('caf\xe9')).toBe('caf\xe9');
  });
});
