/**
 * What makes an S3 object key one the platform can use, checked at the boundary so that a key
 * that can never work is an invalid request rather than a storage error.
 */

/** S3's longest object key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/**
 * Longest path segment, in UTF-8 bytes. S3 has no such limit, but the local lake keeps each
 * segment as a file name (255 bytes on common file systems); one rule for both keeps them alike.
 */
export const MAX_SEGMENT_BYTES = 255;

/** Why `key` is not a usable object key, or `undefined` when it is. */
export function objectKeyProblem(key: string): string | undefined {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes === 0) return 'is empty';
  if (bytes > MAX_KEY_BYTES) return `is ${bytes} bytes long; S3 keys are at most ${MAX_KEY_BYTES} bytes (UTF-8)`;
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'contains a control character';
  const segments = key.split('/');
  if (segments.some((segment) => segment === '')) return "has an empty path segment ('//', or a leading or trailing '/')";
  if (segments.some((segment) => segment === '.' || segment === '..')) return "has a '.' or '..' path segment";
  const long = segments.find((segment) => Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES);
  if (long !== undefined) return `has a path segment of ${Buffer.byteLength(long, 'utf8')} bytes; segments are at most ${MAX_SEGMENT_BYTES} bytes`;
  return undefined;
}
