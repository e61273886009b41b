/**
 * The `Prefer` request header (RFC 7240): whether a request asks to be answered asynchronously.
 * Kept apart from the async submission code, which the predict function loads only for such requests.
 */

/** The preference that asks for an asynchronous answer. */
export const RESPOND_ASYNC = 'respond-async';

/** Whether a `Prefer` header value holds `respond-async` (among other preferences, any case). */
export function prefersAsync(prefer: string | undefined): boolean {
  if (prefer === undefined) return false;
  return prefer.split(',').some((preference) => preference.split(';', 1)[0]!.split('=', 1)[0]!.trim().toLowerCase() === RESPOND_ASYNC);
}
