import type { Rng } from './prng.js';

/**
 * A JSON document as a tree whose leaves are raw JSON text, so it can hold what a
 * JavaScript value cannot: `1e400`, `-0`, duplicate keys, `__proto__` as an own key.
 */
export type JsonNode =
  | { readonly t: 'raw'; readonly text: string }
  | { readonly t: 'arr'; readonly items: JsonNode[] }
  | { readonly t: 'obj'; readonly entries: [string, JsonNode][] };

const raw = (text: string): JsonNode => ({ t: 'raw', text });

/** The tree of a plain JSON value. */
export function fromValue(value: unknown): JsonNode {
  if (Array.isArray(value)) return { t: 'arr', items: value.map(fromValue) };
  if (value !== null && typeof value === 'object') return { t: 'obj', entries: Object.entries(value).map(([k, v]) => [k, fromValue(v)]) };
  return raw(JSON.stringify(value));
}

/** The JSON text of a tree. */
export function toText(node: JsonNode): string {
  if (node.t === 'raw') return node.text;
  if (node.t === 'arr') return `[${node.items.map(toText).join(',')}]`;
  return `{${node.entries.map(([k, v]) => `${JSON.stringify(k)}:${toText(v)}`).join(',')}}`;
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const nestedObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** Values that break validators: out-of-range and negative-zero numbers, wrong types, huge and odd strings, prototype keys, deep nesting. */
export function hostileValue(rng: Rng): JsonNode {
  const choices: (() => string)[] = [
    () => rng.pick(['null', 'true', 'false', '0', '-0', '-1', '1.5', '0.1', '2', '100', '101', '-100']),
    () => rng.pick(['1e400', '-1e400', '1e-400', '1e308', '-1e308', '3.4e38', '9007199254740993', '123456789012345678901234567890', '1E+2']),
    () => rng.pick(['""', '" "', '"NaN"', '"Infinity"', '"-Infinity"', '"1e400"', '"1"', '"true"', '"null"', '"prod"', '"iris"', '"latest"']),
    () => rng.pick(['"\\u0000"', '"\\ud800"', '"名前"', '"💩"', '"a\\nb"', '"\\"quoted\\""', '"../../etc/passwd"', '"s3://lake/raw/x"', '"s3://lake/a//b"']),
    () => JSON.stringify('x'.repeat(rng.pick([256, 1025, 20_000, 100_000]))),
    () => rng.pick(['[]', '{}', '[null]', '[[]]', '[1,2,3]', '[[1,2],[3]]', '["a",1,null,true]', '[{}]', '{"":1}']),
    () => rng.pick(['{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}', '{"toString":1,"valueOf":2}', '{"hasOwnProperty":"x"}']),
    () => nested(rng.pick([64, 1_000, 10_000])),
    () => nestedObject(rng.pick([64, 1_000, 10_000])),
    () => `[${Array.from({ length: rng.pick([1_000, 50_000]) }, (_, i) => i % 7).join(',')}]`,
  ];
  return raw(rng.pick(choices)());
}

/** Field names a strict validator must refuse or handle as plain data. */
export function hostileKey(rng: Rng): string {
  return rng.pick(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', 'descripton', 'hyperparams', 'x'.repeat(2_000), '名前', '\u0000', 'a.b', '$where']);
}

interface Slot {
  readonly get: () => JsonNode;
  readonly set: (node: JsonNode) => void;
}

/** Every node of a tree as a slot that can be replaced (the root's slot replaces the whole document). */
function slots(root: { node: JsonNode }): Slot[] {
  const found: Slot[] = [{ get: () => root.node, set: (n) => (root.node = n) }];
  const walk = (node: JsonNode) => {
    if (node.t === 'arr') {
      node.items.forEach((item, i) => {
        found.push({ get: () => node.items[i]!, set: (n) => (node.items[i] = n) });
        walk(item);
      });
    } else if (node.t === 'obj') {
      node.entries.forEach((entry, i) => {
        found.push({ get: () => node.entries[i]![1], set: (n) => (node.entries[i]![1] = n) });
        walk(entry[1]);
      });
    }
  };
  walk(root.node);
  return found;
}

/** Variations of a string a validator must still judge: doubled slashes, dot segments, over-long, padded, case-changed, truncated. */
function mutateString(value: string, rng: Rng): string {
  return rng.pick([
    () => `${value}/${'k'.repeat(rng.pick([300, 1_100, 16_000]))}`,
    () => value.replace(/\/(?!\/)/, '//'),
    () => `${value}/../x`,
    () => value.toUpperCase(),
    () => ` ${value} `,
    () => `${value}\u0000`,
    () => value.slice(0, rng.int(0, value.length)),
    () => value.repeat(2),
  ])();
}

const isStringLeaf = (node: JsonNode): node is Extract<JsonNode, { t: 'raw' }> => node.t === 'raw' && node.text.startsWith('"');

/**
 * Applies one (mostly) to three random mutations: replace a value with a hostile one, vary a string,
 * add an unknown or prototype key, rename a key to one, drop or duplicate a key, wrap in an array.
 */
export function mutate(node: JsonNode, rng: Rng): JsonNode {
  const root = { node };
  // Mostly one change, so the rest of the body stays valid and the change reaches the code that judges it.
  const count = rng.chance(0.6) ? 1 : rng.int(2, 3);
  for (let i = 0; i < count; i++) {
    const all = slots(root);
    const slot = rng.pick(all.length > 1 && rng.chance(0.9) ? all.slice(1) : all);
    const target = slot.get();
    const objects = all.map((s) => s.get()).filter((n): n is Extract<JsonNode, { t: 'obj' }> => n.t === 'obj');
    const withEntries = objects.filter((o) => o.entries.length > 0);
    const strings = all.flatMap((s) => {
      const leaf = s.get();
      return isStringLeaf(leaf) ? [{ slot: s, text: leaf.text }] : [];
    });
    const operation = rng.int(0, 6);
    if (operation === 1 && objects.length > 0) {
      const object = rng.pick(objects);
      const sibling = object.entries.length > 0 && rng.chance(0.5) ? rng.pick(object.entries)[1] : undefined;
      object.entries.push([hostileKey(rng), sibling ?? (rng.chance(0.5) ? hostileValue(rng) : raw('"x"'))]);
    } else if (operation === 2 && withEntries.length > 0) {
      const object = rng.pick(withEntries);
      object.entries.splice(rng.int(0, object.entries.length - 1), 1);
    } else if (operation === 3 && withEntries.length > 0) {
      const object = rng.pick(withEntries);
      object.entries.push([rng.pick(object.entries)[0], hostileValue(rng)]);
    } else if (operation === 4) {
      slot.set({ t: 'arr', items: [target] });
    } else if (operation === 5 && withEntries.length > 0) {
      const entry = rng.pick(rng.pick(withEntries).entries);
      entry[0] = hostileKey(rng);
    } else if (operation === 6 && strings.length > 0) {
      const leaf = rng.pick(strings);
      leaf.slot.set(raw(JSON.stringify(mutateString(JSON.parse(leaf.text) as string, rng))));
    } else {
      slot.set(hostileValue(rng));
    }
  }
  return root.node;
}

/** Damages JSON text: truncation, trailing garbage, a byte-order mark, or a body that is not JSON at all. */
export function corruptText(text: string, rng: Rng): string {
  const choices: (() => string)[] = [
    () => text.slice(0, rng.int(0, Math.max(0, text.length - 1))),
    () => `${text}${rng.pick(['}', ',', ']', ' garbage', '{"b":2}', '\u0000'])}`,
    () => `\ufeff${text}`,
    () => rng.pick(['', ' ', 'not json', 'null', '[]', '1e400', 'NaN', '-0', 'true', '"text"', '{', '{"a":1,}', "{'a':1}", '{"a":1}{"b":2}', '\u0000']),
  ];
  return rng.pick(choices)();
}
