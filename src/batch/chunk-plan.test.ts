import { describe, expect, it } from 'vitest';
import { planCsvChunks, planRowChunks } from './chunk-plan.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const slices = (text: string, chunks: { start: number; end: number }[]) => chunks.map((c) => new TextDecoder().decode(bytes(text).slice(c.start, c.end)));

describe('planRowChunks', () => {
  it('covers every row once, the last chunk shorter', () => {
    // Act
    const chunks = planRowChunks(12, 5);

    // Assess
    expect(chunks).toEqual([
      { index: 0, firstRow: 0, rows: 5, start: 0, end: 5 },
      { index: 1, firstRow: 5, rows: 5, start: 5, end: 10 },
      { index: 2, firstRow: 10, rows: 2, start: 10, end: 12 },
    ]);
  });

  it('plans nothing for no rows', () => {
    expect(planRowChunks(0, 5)).toEqual([]);
  });
});

describe('planCsvChunks', () => {
  it('cuts after whole records, a last record without a line break included', () => {
    // Prepare
    const text = 'id,x\n1,a\n2,b\n3,c';

    // Act
    const chunks = planCsvChunks(bytes(text), 5, 2, '"');

    // Assess
    expect(chunks.map((c) => [c.index, c.firstRow, c.rows])).toEqual([
      [0, 0, 2],
      [1, 2, 1],
    ]);
    expect(slices(text, chunks)).toEqual(['1,a\n2,b\n', '3,c']);
  });

  it('keeps line breaks inside quoted values (doubled or backslash-escaped quotes) in their record', () => {
    // Prepare
    const rfc = 'id,x\r\n1,"a\r\nb ""q"""\r\n2,c\r\n';
    const backslash = 'id,x\n1,"a\\"\nb"\n2,c\n';

    // Act
    const rfcChunks = planCsvChunks(bytes(rfc), 6, 1, '"');
    const backslashChunks = planCsvChunks(bytes(backslash), 5, 1, '\\');

    // Assess
    expect(slices(rfc, rfcChunks)).toEqual(['1,"a\r\nb ""q"""\r\n', '2,c\r\n']);
    expect(slices(backslash, backslashChunks)).toEqual(['1,"a\\"\nb"\n', '2,c\n']);
  });

  it('does not count blank lines as records', () => {
    // Prepare
    const text = 'id\n1\n\n2\n\n';

    // Act
    const chunks = planCsvChunks(bytes(text), 3, 10, '"');

    // Assess
    expect(chunks).toEqual([{ index: 0, firstRow: 0, rows: 2, start: 3, end: text.length }]);
  });
});
