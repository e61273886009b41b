import { describe, expect, it } from 'vitest';
import { classifyJson, classifyText, isNullText, numberShape, textFits, TypeTally, widen, type ColumnType } from './column-types.js';

const classes = (values: readonly string[]) => Object.fromEntries(values.map((v) => [v, classifyText(v)]));

describe('classifyText', () => {
  it('reads integers without leading zeros, signs allowed', () => {
    // Act
    const found = classes(['0', '-0', '+5', '-17', '42', '123456789012345678']);
    // Assess
    expect(Object.values(found)).toEqual(Array(6).fill('integer'));
  });

  it('keeps numbers with leading zeros as text: they are identifiers (zip codes, agent numbers)', () => {
    // Act
    const found = classes(['007', '0123', '-01', '+00']);
    // Assess
    expect(found).toEqual({ '007': 'string', '0123': 'string', '-01': 'string', '+00': 'string' });
  });

  it('takes integers up to the int64 bounds and wider ones as floats', () => {
    // Act
    const found = classes(['9223372036854775807', '-9223372036854775808', '9223372036854775808', '-9223372036854775809', '1234567890123456789', '12345678901234567890']);
    // Assess
    expect(found).toEqual({
      '9223372036854775807': 'integer',
      '-9223372036854775808': 'integer',
      '9223372036854775808': 'float',
      '-9223372036854775809': 'float',
      '1234567890123456789': 'integer',
      '12345678901234567890': 'float',
    });
  });

  it('reads decimals, exponents, nan and infinities as floats', () => {
    // Act
    const found = classes(['1.5', '-0.25', '1.', '.5', '+.5', '1e5', '1E-3', '-2.5e+10', '0.0', 'nan', 'NaN', 'inf', '-inf', 'Infinity', '+infinity']);
    // Assess
    expect(new Set(Object.values(found))).toEqual(new Set(['float']));
  });

  it('rejects almost-numbers as text', () => {
    // Act
    const found = classes(['1,5', '1.2.3', 'e5', '1e', '--1', '1 000', ' 1', '0x1F', '$5', '5%', 'nanx']);
    // Assess
    expect(new Set(Object.values(found))).toEqual(new Set(['string']));
  });

  it('classifies pathological values by reading each character at most once', () => {
    // Prepare: values that made the former float pattern backtrack quadratically (41 s for one
    // 80,000-digit cell), seen through a string whose character reads are counted
    const n = 80_000;
    const values = ['1'.repeat(n) + 'x', '1'.repeat(n) + 'x,a', `1.${'1'.repeat(n)}x`, `1e${'1'.repeat(n)}x`, `.${'1'.repeat(n)}.`, `-${'0'.repeat(n)}e`, '1'.repeat(n)];
    let reads = 0;
    const counted = (value: string): string =>
      Object.assign(new String(value), {
        charCodeAt: (index: number) => {
          reads += 1;
          return value.charCodeAt(index);
        },
      }) as unknown as string;
    for (const value of values) {
      reads = 0;
      // Act
      const shape = numberShape(counted(value));
      // Assess
      expect(reads).toBeLessThanOrEqual(value.length);
      expect(shape).toBe(value === '1'.repeat(n) ? 'integer' : undefined);
    }
    expect(classifyText('1'.repeat(n) + 'x')).toBe('string');
    expect(classifyText('1'.repeat(n))).toBe('float');
  });

  it('reads true and false in any case as booleans, but not other truthy words', () => {
    // Act
    const found = classes(['true', 'FALSE', 'True', 'yes', 'no', 't', 'TRUEish']);
    // Assess
    expect(found).toEqual({ true: 'boolean', FALSE: 'boolean', True: 'boolean', yes: 'string', no: 'string', t: 'string', TRUEish: 'string' });
  });

  it('reads ISO 8601 dates and date-times, with fractions and offsets, as timestamps', () => {
    // Act
    const found = classes([
      '2024-01-31',
      '2024-02-29',
      '2024-01-01T10:00',
      '2024-01-01 10:00',
      '2024-01-01 23:59:59',
      '2024-01-01T10:00:00Z',
      '2024-01-01T10:00:00.5',
      '2024-01-01T10:00:00.123456789Z',
      '2024-01-01T10:00:00+02:00',
      '2024-01-01 10:00:00+0530',
      '2024-01-01T10:00:00-07',
    ]);
    // Assess
    expect(new Set(Object.values(found))).toEqual(new Set(['timestamp']));
  });

  it('keeps impossible dates and forms the engine refuses as text', () => {
    // Act
    const found = classes([
      '2024-13-01',
      '2024-00-10',
      '2024-01-32',
      '2024-02-30',
      '2023-02-29',
      '2024-04-31',
      '2024-01-01T24:00',
      '2024-01-01T10:60',
      '2024-1-1',
      '01/02/2024',
      '2024-01-01T10:00Z',
      '2024-01-01+02:00',
    ]);
    // Assess
    expect(new Set(Object.values(found))).toEqual(new Set(['string']));
  });

  it('knows leap years by the Gregorian rules', () => {
    // Act
    const found = classes(['2000-02-29', '1900-02-29', '2100-02-29', '2096-02-29']);
    // Assess
    expect(found).toEqual({ '2000-02-29': 'timestamp', '1900-02-29': 'string', '2100-02-29': 'string', '2096-02-29': 'timestamp' });
  });
});

describe('isNullText', () => {
  it('treats the empty string and the null tokens as no value, but not NaN or spaces', () => {
    // Act
    const nulls = ['', 'NA', 'N/A', 'null', 'NULL', 'NaN', ' ', 'none', 'Null'].filter(isNullText);
    // Assess
    expect(nulls).toEqual(['', 'NA', 'N/A', 'null', 'NULL']);
  });
});

describe('textFits', () => {
  it('accepts a value of the type, integers as floats, and anything as a string', () => {
    // Act / Assess
    expect(textFits('12', 'integer')).toBe(true);
    expect(textFits('12', 'float')).toBe(true);
    expect(textFits('12', 'string')).toBe(true);
    expect(textFits('1.5', 'float')).toBe(true);
    expect(textFits('true', 'boolean')).toBe(true);
    expect(textFits('2024-01-01', 'timestamp')).toBe(true);
    expect(textFits('anything', 'string')).toBe(true);
  });

  it('refuses a value that needs a wider type', () => {
    // Act / Assess
    expect(textFits('1.5', 'integer')).toBe(false);
    expect(textFits('007', 'integer')).toBe(false);
    expect(textFits('1', 'boolean')).toBe(false);
    expect(textFits('2024-13-01', 'timestamp')).toBe(false);
    expect(textFits('true', 'float')).toBe(false);
    expect(textFits('9223372036854775808', 'integer')).toBe(false);
  });
});

describe('widen', () => {
  it('keeps equal types, widens integers with floats to floats and every other mix to strings', () => {
    // Prepare
    const types: ColumnType[] = ['integer', 'float', 'boolean', 'timestamp', 'string'];
    // Act
    const table = types.flatMap((a) => types.map((b) => [a, b, widen(a, b)]));
    // Assess
    for (const [a, b, w] of table) {
      if (a === b) expect(w).toBe(a);
      else if ((a === 'integer' && b === 'float') || (a === 'float' && b === 'integer')) expect(w).toBe('float');
      else expect(w).toBe('string');
    }
    expect(widen('float', 'integer')).toBe('float');
    expect(widen('boolean', 'integer')).toBe('string');
  });
});

describe('classifyJson', () => {
  it('types JSON values: null as no value, numbers by integrality, strings as text unless timestamps', () => {
    // Act / Assess
    expect(classifyJson(null)).toBeUndefined();
    expect(classifyJson(undefined)).toBeUndefined();
    expect(classifyJson(true)).toBe('boolean');
    expect(classifyJson(3)).toBe('integer');
    expect(classifyJson(-3)).toBe('integer');
    expect(classifyJson(3.25)).toBe('float');
    expect(classifyJson('2024-05-01T12:00:00Z')).toBe('timestamp');
    expect(classifyJson('42')).toBe('string');
    expect(classifyJson('true')).toBe('string');
    expect(classifyJson({ a: 1 })).toBe('string');
    expect(classifyJson([1, 2])).toBe('string');
  });

  it('types integral numbers beyond int64 as floats', () => {
    // Act / Assess
    expect(classifyJson(1e20)).toBe('float');
    expect(classifyJson(-1e19)).toBe('float');
    expect(classifyJson(2 ** 62)).toBe('integer');
  });
});

describe('TypeTally', () => {
  const tally = (values: readonly (ColumnType | undefined)[]) => {
    const t = new TypeTally();
    values.forEach((type, i) => t.add(type, `${type ?? 'null'}-${i}`));
    return t;
  };

  it('types a column with no sampled value, or only nulls, as string without a note', () => {
    // Act
    const empty = tally([]);
    const nulls = tally([undefined, undefined]);
    // Assess
    expect(empty.result).toBe('string');
    expect(empty.mixedNote('c')).toBeUndefined();
    expect(nulls.result).toBe('string');
    expect(nulls.mixedNote('c')).toBeUndefined();
  });

  it('keeps a single type through nulls and widens integers with floats', () => {
    // Act
    const ints = tally(['integer', undefined, 'integer']);
    const numbers = tally(['integer', 'float', 'integer']);
    const dates = tally(['timestamp', 'timestamp']);
    // Assess
    expect(ints.result).toBe('integer');
    expect(numbers.result).toBe('float');
    expect(numbers.mixedNote('n')).toBeUndefined();
    expect(dates.result).toBe('timestamp');
  });

  it('notes a string column whose sampled values mix kinds, with the count and an example of each', () => {
    // Prepare
    const t = new TypeTally();
    t.add('integer', '1');
    t.add('integer', '2');
    t.add(undefined, '');
    t.add('string', 'n/a yet');
    t.add('integer', '3');
    t.add('string', 'unknown');
    t.add('integer', '4');
    // Act
    const note = t.mixedNote('age');
    // Assess
    expect(t.result).toBe('string');
    expect(note).toBe(
      "column 'age': its 6 sampled values mix kinds (numbers: 4, e.g. '1'; text: 2, e.g. 'n/a yet'), so it was typed string; declare its type in the dataset schema to reject the rows that do not fit instead",
    );
  });

  it('counts integers and floats as numbers', () => {
    // Prepare
    const t = new TypeTally();
    t.add('integer', '1');
    t.add('float', '2.5');
    t.add('integer', '3');
    t.add('boolean', 'true');
    t.add('integer', '5');
    // Act
    const note = t.mixedNote('x');
    // Assess
    expect(note).toContain("(numbers: 4, e.g. '1'; booleans: 1, e.g. 'true')");
  });

  it('cuts a long example to 40 characters', () => {
    // Prepare
    const t = new TypeTally();
    const long = 'x'.repeat(100);
    t.add('float', '1.5');
    t.add('float', '2.5');
    t.add('string', long);
    // Act
    const note = t.mixedNote('x');
    // Assess
    expect(note).toContain(`text: 1, e.g. '${'x'.repeat(40)}'`);
  });

  it('notes every mix of kinds, whatever the shares (the review\'s file: numbers and hex / underscored text)', () => {
    // Prepare: 1, 2.5, 0x10, 1_000, 3.0, 99999999999999999999 (a float: beyond int64)
    const values = ['1', '2.5', '0x10', '1_000', '3.0', '99999999999999999999'];
    const review = new TypeTally();
    for (const value of values) review.add(classifyText(value), value);
    // Act / Assess
    expect(review.result).toBe('string');
    expect(review.mixedNote('n')).toContain("its 6 sampled values mix kinds (numbers: 4, e.g. '1'; text: 2, e.g. '0x10')");
    expect(tally(['integer', 'string']).mixedNote('c')).toContain('(numbers: 1');
    expect(tally(['integer', 'string', 'string', 'string']).mixedNote('c')).toContain("(text: 3, e.g. 'string-1'; numbers: 1, e.g. 'integer-0')");
    expect(tally(['integer', 'boolean', 'timestamp', 'string']).mixedNote('c')).toContain('booleans: 1');
    expect(tally(['boolean', 'timestamp']).mixedNote('c')).toContain('timestamps: 1');
  });

  it('gives no note when every sampled value is text', () => {
    // Act / Assess
    expect(tally(['string', 'string', 'string']).mixedNote('c')).toBeUndefined();
  });

  it('gives no note for a column that is not typed string', () => {
    // Act / Assess
    expect(tally(['boolean', 'boolean']).mixedNote('c')).toBeUndefined();
  });
});
