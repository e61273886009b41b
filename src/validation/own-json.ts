/**
 * JSON as data only: every object a request body holds is prototype-free, so a key named like a
 * JavaScript built-in (`constructor`, `toString`, `__proto__`) is an ordinary own property, never
 * something inherited, and reading a key that is absent gives `undefined`.
 */
import { InvalidRequestError } from '../errors.js';

/** Whether a value is a plain object (from JSON or an object literal), not an array or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === null || prototype === Object.prototype;
}

/** Deepest the walk recurses; containers below that are finished from a fresh stack (see {@link parseOwnJson}). */
const RECURSION_LIMIT = 1000;

/** An array, or a prototype-free object, whose children still have their prototypes. */
type Unfinished = unknown[] | Record<string, unknown>;

/**
 * `value` with every plain object within it rebuilt without a prototype (arrays are updated in
 * place), recursing at most {@link RECURSION_LIMIT} deep: a container at that depth is returned
 * with its children untouched and added to `unfinished`.
 */
function withoutPrototypes(value: object, depth: number, unfinished: Unfinished[]): object {
  if (depth >= RECURSION_LIMIT) {
    const shallow = Array.isArray(value) ? value : Object.assign(Object.create(null) as Record<string, unknown>, value);
    unfinished.push(shallow);
    return shallow;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null) value[i] = withoutPrototypes(item, depth + 1, unfinished);
    }
    return value;
  }
  const source = value as Record<string, unknown>;
  const copy = Object.create(null) as Record<string, unknown>;
  // Assignment on a prototype-free object defines an own property, even for `__proto__`.
  for (const key of Object.keys(source)) {
    const item = source[key];
    copy[key] = typeof item === 'object' && item !== null ? withoutPrototypes(item, depth + 1, unfinished) : item;
  }
  return copy;
}

/**
 * `JSON.parse` whose objects are prototype-free. Throws `SyntaxError` like `JSON.parse`.
 * Any nesting is fine: the JSON parser is not recursive, and this walk recurses only so deep,
 * then carries on from the containers it left unfinished.
 */
export function parseOwnJson(text: string): unknown {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null) return parsed;
  const unfinished: Unfinished[] = [];
  const root = withoutPrototypes(parsed, 0, unfinished);
  for (let container = unfinished.pop(); container !== undefined; container = unfinished.pop()) {
    const entries = container as Record<string, unknown>;
    for (const key of Object.keys(entries)) {
      const item = entries[key];
      if (typeof item === 'object' && item !== null) entries[key] = withoutPrototypes(item, 0, unfinished);
    }
  }
  return root;
}

/**
 * 400 for JSON text that starts with a byte-order mark, which RFC 8259 §8.1 forbids senders to
 * add: every JSON a request carries (a body, the JSON header of a binary request) is held to it
 * alike. `what` names the text in the message.
 */
export function refuseByteOrderMark(text: string, what: string): void {
  if (text.startsWith('\uFEFF')) {
    throw new InvalidRequestError(`${what} starts with a byte-order mark (U+FEFF); JSON sent over a network must not have one (RFC 8259 §8.1): remove it`);
  }
}
