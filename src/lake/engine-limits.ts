/** How the ingest engine sizes itself from the function it runs in. */

/**
 * Share of the function's memory given to DuckDB. The rest holds Node.js, the SDK, S3
 * streams and DuckDB's own allocations outside its limit (measured: RSS ≈ limit + 100 MB).
 */
const ENGINE_MEMORY_SHARE = 0.5;

/** The engine's memory limit for a function of `memoryMb`. */
export function engineMemoryLimitMb(memoryMb: number): number {
  return Math.max(64, Math.floor(memoryMb * ENGINE_MEMORY_SHARE));
}

/** Longest CSV or JSON line accepted (DuckDB's default); a longer line is rejected with its number. */
export const MAX_LINE_BYTES = 2 * 1024 * 1024;
