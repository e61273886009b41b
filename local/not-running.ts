/**
 * Tells a command-line user that the local cloud is not running, instead of a bare
 * "fetch failed" or a connection error, when a call to it was refused.
 */

/** Whether `error` (or its cause, or one of an aggregate's errors) is a refused TCP connection. */
export function isConnectionRefused(error: unknown, depth = 0): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (code === 'ECONNREFUSED') return true;
  if (Array.isArray(errors) && errors.some((inner) => isConnectionRefused(inner, depth + 1))) return true;
  return isConnectionRefused(cause, depth + 1);
}

/** What to tell the user when `error` says nothing listens at the platform's address; `undefined` for other errors. */
export function notRunningMessage(error: unknown, baseUrl: string): string | undefined {
  if (!isConnectionRefused(error)) return undefined;
  return `the local platform is not running (nothing answers at ${baseUrl}): start it with 'npm start' (same LOCAL_CLOUD_DIR), then run this again`;
}
