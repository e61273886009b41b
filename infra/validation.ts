/**
 * Early validation of construct props: fail at synth time with a message that names the
 * construct, the prop and the bad value, instead of at deploy time in CloudFormation.
 */

/**
 * Throws unless `value` is an integer in `[min, max]`.
 *
 * @param what - Construct path and prop name, used in the error message.
 * @param value - The value to check.
 * @param min - Smallest allowed value.
 * @param max - Largest allowed value.
 */
export function assertIntegerInRange(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${what} must be an integer between ${min} and ${max}, got ${value}`);
  }
}
