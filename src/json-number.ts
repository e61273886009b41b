/**
 * JSON has no NaN or infinities: a non-finite number is written as the string `"NaN"`,
 * `"Infinity"` or `"-Infinity"` (the spelling of JavaScript, Python's `float()` and Triton),
 * never as `null` (what `JSON.stringify` makes of it), which would read as a missing value.
 * Model outputs and dataset previews both answer so.
 */
export function jsonNumber(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}
