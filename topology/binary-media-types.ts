/**
 * How API Gateway (REST) decides whether a header names one of its binary media types
 * (`binaryMediaTypes`): the request's `Content-Type` for the body it passes to a Lambda proxy
 * integration (base64, `isBase64Encoded`), the request's `Accept` for a base64 result it writes
 * back as bytes.
 */

/** A media type as `type` and `subtype`, lower-cased, without parameters. */
interface MediaRange {
  readonly type: string;
  readonly subtype: string;
}

function parseMediaRange(text: string): MediaRange | undefined {
  const [essence = ''] = text.split(';', 1);
  const slash = essence.indexOf('/');
  if (slash === -1) return undefined;
  const type = essence.slice(0, slash).trim().toLowerCase();
  const subtype = essence.slice(slash + 1).trim().toLowerCase();
  return type === '' || subtype === '' || subtype.includes('/') ? undefined : { type, subtype };
}

function entryMatches(entry: MediaRange, value: MediaRange): boolean {
  if (entry.type === '*') return entry.subtype === '*';
  return entry.type === value.type && (entry.subtype === '*' || entry.subtype === value.subtype);
}

/**
 * Whether API Gateway treats a `Content-Type` or `Accept` header value as one of `binaryMediaTypes`:
 * - only the header's first media type counts (`Accept: image/webp, image/png` is `image/webp`,
 *   whatever the `q` values), and its parameters do not (`application/octet-stream; q=0.9`);
 * - an entry matches its own type, `type/*` every subtype of `type`, `*\/*` every media type;
 *   an entry with a wildcard type and a named subtype (`*\/test`) matches nothing;
 * - a wildcard in the header is not expanded: `Accept: *\/*` matches only a `*\/*` entry,
 *   `Accept: image/*` only `image/*` or `*\/*`;
 * - no header, or one that is not `type/subtype`, matches nothing.
 *
 * AWS documents the first-`Accept` rule and the `*` wildcard ("Binary media types for REST APIs");
 * the rest is what real API Gateway answered in LocalStack's AWS-validated test
 * `test_aws_proxy_binary_response`. Media types compare case-insensitively (RFC 9110 §8.3.1), which
 * that test does not cover.
 */
export function isBinaryMediaType(header: string | undefined, binaryMediaTypes: readonly string[]): boolean {
  const value = header === undefined ? undefined : parseMediaRange(header.split(',', 1)[0] ?? '');
  if (value === undefined) return false;
  return binaryMediaTypes.some((text) => {
    const entry = parseMediaRange(text);
    return entry !== undefined && entryMatches(entry, value);
  });
}
