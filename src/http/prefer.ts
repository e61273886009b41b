/**
 * The `Prefer` request header (RFC 7240): whether a request asks to be answered asynchronously.
 * Kept apart from the async submission code, which the predict function loads only for such requests.
 */

/** The preference that asks for an asynchronous answer. */
export const RESPOND_ASYNC = 'respond-async';

/**
 * Request header naming an uploaded input (the `inputRef` of `POST /v2/async/uploads`), as
 * SageMaker's InputLocation: an async input, so a request that names one must prefer `respond-async`.
 */
export const INPUT_LOCATION_HEADER = 'x-input-location';

/**
 * Whether a `Prefer` header value holds `respond-async` (among other preferences, any case).
 * The preference takes no value (RFC 7240 §4.1), and an empty one counts as none (§2); with any
 * other value (`respond-async=false`) it is a preference this server does not know, so it is
 * ignored, as §2 asks of unknown preferences.
 */
export function prefersAsync(prefer: string | undefined): boolean {
  if (prefer === undefined) return false;
  return prefer.split(',').some((preference) => {
    const [token, value] = preference.split(';', 1)[0]!.split('=', 2).map((part) => part.trim());
    return token!.toLowerCase() === RESPOND_ASYNC && (value === undefined || value === '' || value === '""');
  });
}
