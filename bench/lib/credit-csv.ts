/**
 * A deterministic, credit-scoring-like CSV for the ingest benchmarks, plus the
 * pieces every contender shares: a small type inference over the first rows, a
 * per-cell converter to typed values, and a checksum over every column so that
 * all parsers, writers and readers (and DuckDB) can be checked against each other.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/** The generated columns, in file order. */
export const CREDIT_COLUMNS = [
  'id',
  'age',
  'income',
  'loan_amount',
  'credit_score',
  'debt_ratio',
  'num_accounts',
  'has_default',
  'is_homeowner',
  'purpose',
  'application_ts',
  'note',
] as const;

const PURPOSES = [
  'car', 'home_improvement', 'debt_consolidation', 'education', 'medical', 'vacation', 'wedding', 'moving',
  'business', 'renewable_energy', 'major_purchase', 'credit_card', 'house', 'other', 'boat', 'furniture',
  'electronics', 'tuition', 'taxes', 'legal',
] as const;

const WORDS = [
  'late', 'payment', 'customer', 'called', 'income', 'verified', 'employer', 'confirmed', 'review', 'manual',
  'risk', 'low', 'high', 'address', 'changed', 'self-employed', 'bonus', 'seasonal', 'cosigner', 'requested',
] as const;

/** mulberry32: a small, fast, seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function note(rand: () => number): string {
  const n = 2 + Math.floor(rand() * 8);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(rand() * WORDS.length)]!);
  const r = rand();
  if (r < 0.03) {
    // an embedded quote, escaped by doubling, and a comma: the field must be quoted
    return `"${words.slice(0, 2).join(' ')} said ""ok"", ${words.slice(2).join(' ')}"`;
  }
  if (r < 0.13) return `"${words.slice(0, 2).join(' ')}, ${words.slice(2).join(' ')}"`;
  return words.join(' ');
}

/**
 * Writes a CSV of at least `minBytes` bytes (header included) and returns its
 * size and row count. Same seed, same bytes.
 */
export async function writeCreditCsv(path: string, minBytes: number, seed = 42): Promise<{ bytes: number; rows: number }> {
  const rand = prng(seed);
  const out = createWriteStream(path);
  let bytes = 0;
  let rows = 0;
  const start = Date.UTC(2022, 0, 1) / 1000;
  const span = 3 * 365 * 86400;
  const write = async (text: string): Promise<void> => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`${CREDIT_COLUMNS.join(',')}\n`);
  while (bytes < minBytes) {
    let block = '';
    for (let i = 0; i < 10_000; i++) {
      rows++;
      const age = 18 + Math.floor(rand() * 73);
      const income = rand() < 0.01 ? '' : (15_000 + rand() * 185_000).toFixed(2);
      const loan = (500 + rand() * 49_500).toFixed(2);
      const score = 300 + Math.floor(rand() * 551);
      const debt = (rand() * 1.5).toFixed(4);
      const accounts = Math.floor(rand() * 31);
      const defaulted = rand() < 0.08 ? 'true' : 'false';
      const homeowner = rand() < 0.45 ? 'true' : 'false';
      const purpose = PURPOSES[Math.floor(rand() * PURPOSES.length)]!;
      const ts = new Date((start + Math.floor(rand() * span)) * 1000).toISOString().slice(0, 19) + 'Z';
      block += `${rows},${age},${income},${loan},${score},${debt},${accounts},${defaulted},${homeowner},${purpose},${ts},${note(rand)}\n`;
    }
    await write(block);
  }
  out.end();
  await once(out, 'finish');
  return { bytes, rows };
}

/** Column kinds the ingest infers. */
export type Kind = 'int' | 'float' | 'bool' | 'timestamp' | 'string';
/** A typed cell. Timestamps are epoch milliseconds. */
export type Cell = number | boolean | string | null;

const INT = /^-?\d{1,15}$/;
const FLOAT = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const BOOL = /^(true|false)$/;
const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Infers one kind per column from sample rows of strings (empty = null, allowed in any kind). */
export function inferKinds(sample: readonly (readonly string[])[], width: number): Kind[] {
  const kinds: Kind[] = [];
  for (let c = 0; c < width; c++) {
    const values = sample.map((row) => row[c] ?? '').filter((v) => v !== '');
    const all = (re: RegExp) => values.length > 0 && values.every((v) => re.test(v));
    kinds.push(all(INT) ? 'int' : all(FLOAT) ? 'float' : all(BOOL) ? 'bool' : all(ISO) ? 'timestamp' : 'string');
  }
  return kinds;
}

/**
 * Converts a row of strings to typed cells in place of a reusable output row.
 * Returns the number of cells that did not match their column's kind (0 here).
 */
export function convertRow(fields: readonly string[], kinds: readonly Kind[], out: Cell[]): number {
  let bad = 0;
  for (let c = 0; c < kinds.length; c++) {
    const s = fields[c] ?? '';
    if (s === '') {
      out[c] = null;
      continue;
    }
    switch (kinds[c]) {
      case 'int':
      case 'float': {
        const n = +s;
        if (Number.isNaN(n)) bad++;
        out[c] = n;
        break;
      }
      case 'bool':
        if (s === 'true') out[c] = true;
        else if (s === 'false') out[c] = false;
        else {
          out[c] = null;
          bad++;
        }
        break;
      case 'timestamp': {
        const t = Date.parse(s);
        if (Number.isNaN(t)) bad++;
        out[c] = t;
        break;
      }
      default:
        out[c] = s;
    }
  }
  return bad;
}

/**
 * Per-column checksum: numbers → sum of non-null values; booleans → count of
 * true; strings → total length; timestamps → sum of epoch seconds; plus nulls.
 * Every contender computes it over every column, so nothing is optimised away.
 */
export interface Checksum {
  rows: number;
  sums: Record<string, number>;
  nulls: Record<string, number>;
}

/** A value as a library hands it back: parsers give numbers, Parquet readers may give bigint or Date. */
export type AnyValue = number | bigint | boolean | string | Date | null | undefined;

/** Accumulates a {@link Checksum} column by column. */
export class ChecksumBuilder {
  rows = 0;
  readonly sums: number[];
  readonly nulls: number[];

  constructor(readonly names: readonly string[]) {
    this.sums = names.map(() => 0);
    this.nulls = names.map(() => 0);
  }

  /** Adds one value of column `c`. */
  add(c: number, v: AnyValue): void {
    if (v === null || v === undefined) this.nulls[c]!++;
    else if (typeof v === 'number') this.sums[c]! += v;
    else if (typeof v === 'boolean') this.sums[c]! += v ? 1 : 0;
    else if (typeof v === 'string') this.sums[c]! += v.length;
    else if (typeof v === 'bigint') this.sums[c]! += Number(v);
    else this.sums[c]! += v.getTime() / 1000;
  }

  /** Adds a row of typed cells (timestamps in epoch ms, as {@link convertRow} makes them). */
  addRow(row: readonly Cell[], kinds: readonly Kind[]): void {
    this.rows++;
    for (let c = 0; c < row.length; c++) {
      const v = row[c]!;
      this.add(c, kinds[c] === 'timestamp' && typeof v === 'number' ? v / 1000 : v);
    }
  }

  result(): Checksum {
    const sums: Record<string, number> = {};
    const nulls: Record<string, number> = {};
    this.names.forEach((name, c) => {
      sums[name] = this.sums[c]!;
      nulls[name] = this.nulls[c]!;
    });
    return { rows: this.rows, sums, nulls };
  }
}

/** Differences between two checksums (relative tolerance for float sums, whose order differs between engines). */
export function checksumDiff(a: Checksum, b: Checksum): string[] {
  const out: string[] = [];
  if (a.rows !== b.rows) out.push(`rows ${a.rows} ≠ ${b.rows}`);
  for (const name of Object.keys(a.sums)) {
    const x = a.sums[name]!;
    const y = b.sums[name];
    if (y === undefined || Math.abs(x - y) > 1e-9 * Math.max(1, Math.abs(x), Math.abs(y))) out.push(`sum(${name}) ${x} ≠ ${y}`);
    if (a.nulls[name] !== b.nulls[name]) out.push(`nulls(${name}) ${a.nulls[name]} ≠ ${b.nulls[name]}`);
  }
  return out;
}
