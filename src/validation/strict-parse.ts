/**
 * Strict validation of request bodies: a field the schema does not know is an InvalidRequestError naming it (and
 * the known field it most resembles), never silently dropped, at any depth and whatever object
 * schema a route used. What passes comes out prototype-free, like the parsed JSON.
 */
import type * as z from 'zod/mini';
import './zod.js';
import { clip, InvalidRequestError, quote } from '../errors.js';
import { isPlainObject } from './own-json.js';

/** Longest key or path quoted back in a message. */
const MAX_QUOTED = 64;
/** Longest explanation of one zod issue in an error message (zod's texts embed request keys and values). */
const MAX_ISSUE_CHARS = 200;

type Step = PropertyKey;
type Schema = z.core.$ZodType;
interface SchemaDef {
  readonly type: string;
  readonly shape?: Readonly<Record<string, Schema>>;
  readonly innerType?: Schema;
  readonly in?: Schema;
  readonly element?: Schema;
  readonly valueType?: Schema;
  readonly options?: readonly Schema[];
  readonly left?: Schema;
  readonly right?: Schema;
  readonly getter?: () => Schema;
}

const defOf = (schema: Schema): SchemaDef => schema._zod.def as unknown as SchemaDef;

/** The schemas that may describe a value: wrappers (optional, default, pipe…) and unions opened up. */
function unwrap(schema: Schema, seen = new Set<Schema>()): Schema[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const def = defOf(schema);
  const inner = def.innerType ?? def.in ?? def.getter?.();
  if (inner !== undefined) return unwrap(inner, seen);
  if (def.options !== undefined) return def.options.flatMap((option) => unwrap(option, seen));
  if (def.left !== undefined && def.right !== undefined) return [...unwrap(def.left, seen), ...unwrap(def.right, seen)];
  return [schema];
}

/** The schemas that may describe the value at `path` below `root`. */
function schemasAt(root: Schema, path: readonly Step[]): Schema[] {
  let current = unwrap(root);
  for (const step of path) {
    current = current.flatMap((schema) => {
      const def = defOf(schema);
      if (def.type === 'object' && typeof step === 'string' && def.shape?.[step] !== undefined) return unwrap(def.shape[step]);
      if (def.type === 'record' && def.valueType !== undefined) return unwrap(def.valueType);
      if (def.type === 'array' && def.element !== undefined) return unwrap(def.element);
      return [];
    });
  }
  return current;
}

/** Edit distance of two short strings (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = row;
  }
  return previous[b.length]!;
}

/** The known field a mistyped one most likely meant: a small edit away, or a shortening of it. */
export function nearMiss(key: string, known: readonly string[]): string | undefined {
  if (key.length > MAX_QUOTED) return undefined;
  const lower = key.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(lower, name.toLowerCase());
    const close = distance <= Math.max(2, Math.floor(name.length / 3)) || (lower.length >= 4 && name.toLowerCase().startsWith(lower));
    if (close && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

const pathText = (path: readonly Step[]): string => path.map(String).join('.');

/** Says what is wrong with a key the schema at `path` does not keep. */
function unknownKeyMessage(root: Schema, path: readonly Step[], key: string): string {
  const schemas = schemasAt(root, path);
  const field = quote(pathText([...path, key]));
  if (schemas.some((schema) => defOf(schema).type === 'record')) return `${field}: ${quote(key)} cannot be used as a key`;
  const known = [...new Set(schemas.flatMap((schema) => Object.keys(defOf(schema).shape ?? {})))];
  // Known to another form of a union (`backend.instanceType` with `"kind": "lambda"`): it does not apply to this one.
  if (known.includes(key)) return `${field} does not apply here: it belongs to another form of ${path.length === 0 ? 'the body' : quote(pathText(path))}`;
  const suggestion = nearMiss(key, known);
  if (suggestion !== undefined) return `unknown field ${field} (did you mean '${suggestion}'?)`;
  return `unknown field ${field}${known.length === 0 ? '' : ` (known: ${known.join(', ')})`}`;
}

/** Formats zod issues as `path: message; …` for an error message; with the schema, unknown keys name their near miss. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], schema?: Schema): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      if (issue.code === 'unrecognized_keys' && schema !== undefined) return issue.keys.map((key) => unknownKeyMessage(schema, issue.path, key)).join('; ');
      if (issue.code === 'invalid_key') {
        // A record key that breaks its rule: name the record and the key, and state the rule (the key schema's message).
        const record = issue.path.slice(0, -1);
        const rule = issue.issues.map((inner) => inner.message).join('; ');
        return `${record.length > 0 ? clip(pathText(record)) : '(body)'}: key ${quote(String(issue.path.at(-1)))}: ${clip(rule, MAX_ISSUE_CHARS)}`;
      }
      return `${issue.path.length > 0 ? clip(pathText(issue.path)) : '(body)'}: ${clip(issue.message, MAX_ISSUE_CHARS)}`;
    })
    .join('; ');
}

/** A key of the input that validation dropped, and where. */
class DroppedKey {
  constructor(
    readonly path: readonly Step[],
    readonly key: string,
  ) {}
}

/**
 * The validated value, prototype-free, after checking that every key of every input object
 * survived validation (a schema drops what it does not know). Values validation passed through
 * untouched are the input's own (already prototype-free) and are not walked again.
 */
function strictOutput(input: unknown, output: unknown, path: readonly Step[]): unknown {
  if (input === output) return output;
  if (Array.isArray(output)) {
    const items: readonly unknown[] = Array.isArray(input) ? input : [];
    for (let i = 0; i < output.length; i++) {
      const item: unknown = output[i];
      if (typeof item === 'object' && item !== null) output[i] = strictOutput(items[i], item, [...path, i]);
    }
    return output;
  }
  if (!isPlainObject(output)) return output;
  const source = isPlainObject(input) ? input : undefined;
  const dropped = source === undefined ? undefined : Object.keys(source).find((key) => !Object.hasOwn(output, key));
  if (dropped !== undefined) throw new DroppedKey(path, dropped);
  const kept = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(output)) kept[key] = strictOutput(source?.[key], output[key], [...path, key]);
  return kept;
}

/**
 * Validates a request body against a zod schema: an InvalidRequestError naming the offending fields when it does not
 * fit, and one naming any field the schema does not know (with the known field it resembles).
 */
export function parseWith<S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidRequestError(`invalid ${what}: ${describeIssues(result.error.issues, schema)}`);
  try {
    return strictOutput(value, result.data, []) as z.infer<S>;
  } catch (error) {
    if (error instanceof DroppedKey) throw new InvalidRequestError(`invalid ${what}: ${unknownKeyMessage(schema, error.path, error.key)}`);
    throw error;
  }
}
