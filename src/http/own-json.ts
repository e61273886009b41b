/**
 * JSON as data only: every object a request body holds is prototype-free, so a key named like a
 * JavaScript built-in (`constructor`, `toString`, `__proto__`) is an ordinary own property, never
 * something inherited, and reading a key that is absent gives `undefined`.
 */

/** Whether a value is a plain object (from JSON or an object literal), not an array or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === null || prototype === Object.prototype;
}

/** A prototype-free copy of a plain object's own enumerable properties (`__proto__` included, as data), each mapped. */
function ownRecord(value: Record<string, unknown>, map: (value: unknown) => unknown): Record<string, unknown> {
  const copy = Object.create(null) as Record<string, unknown>;
  // Assignment on a prototype-free object defines an own property, even for `__proto__`.
  for (const key of Object.keys(value)) copy[key] = map(value[key]);
  return copy;
}

/** Rebuilds every plain object in a parsed JSON value without a prototype; arrays are updated in place. */
function withoutPrototypes(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null) value[i] = withoutPrototypes(item);
    }
    return value;
  }
  return isPlainObject(value) ? ownRecord(value, withoutPrototypes) : value;
}

/** `JSON.parse` whose objects are prototype-free. Throws `SyntaxError` like `JSON.parse`. */
export function parseOwnJson(text: string): unknown {
  return withoutPrototypes(JSON.parse(text));
}
