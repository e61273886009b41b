import { describe, expect, it } from 'vitest';
import { parseCsvRecords, sniffCsv } from './csv-dialect.js';

describe('parseCsvRecords', () => {
  it('splits plain records and keeps empty values', () => {
    // Act
    const records = parseCsvRecords('a,b,c\n1,,3\n,,\n', ',', '"', true);
    // Assess
    expect(records).toEqual([
      ['a', 'b', 'c'],
      ['1', '', '3'],
      ['', '', ''],
    ]);
  });

  it('keeps delimiters, doubled quotes and line breaks inside quoted values', () => {
    // Prepare
    const text = 'name,note\n"Smith, John","said ""hi""\nand left"\n"",x\n';
    // Act
    const records = parseCsvRecords(text, ',', '"', true);
    // Assess
    expect(records).toEqual([
      ['name', 'note'],
      ['Smith, John', 'said "hi"\nand left'],
      ['', 'x'],
    ]);
  });

  it('reads backslash-escaped quotes when the escape is a backslash', () => {
    // Prepare
    const text = 'a,b\n"say \\"yes\\", then go",2\n"C:\\dir",3\n';
    // Act
    const records = parseCsvRecords(text, ',', '\\', true);
    // Assess
    expect(records).toEqual([
      ['a', 'b'],
      ['say "yes", then go', '2'],
      ['C:\\dir', '3'],
    ]);
  });

  it('ends records at LF, CRLF or a lone CR and skips blank lines', () => {
    // Act
    const records = parseCsvRecords('a;b\r\n1;2\r\n\r\n3;4\r5;6\n\n', ';', '"', true);
    // Assess
    expect(records).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
      ['5', '6'],
    ]);
  });

  it('keeps a last record without a final line break only when the text is the whole file', () => {
    // Prepare
    const text = 'a,b\n1,2\n3,4';
    // Act
    const whole = parseCsvRecords(text, ',', '"', true);
    const prefix = parseCsvRecords(text, ',', '"', false);
    // Assess
    expect(whole).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(prefix).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  it('drops a record whose quoted value is cut by the end of a prefix', () => {
    // Act
    const records = parseCsvRecords('a,b\n1,"multi\nline', ',', '"', false);
    // Assess
    expect(records).toEqual([['a', 'b']]);
  });

  it('drops an unterminated quoted value running to the end of the file, and everything it swallowed', () => {
    // Act
    const records = parseCsvRecords('a,b\n1,2\n3,"open\n5,6\n', ',', '"', true);
    // Assess
    expect(records).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  it('stops after maxRecords', () => {
    // Act
    const records = parseCsvRecords('1\n2\n3\n4\n', ',', '"', true, 2);
    // Assess
    expect(records).toEqual([['1'], ['2']]);
  });
});

describe('sniffCsv', () => {
  it.each([
    ['comma', ','],
    ['semicolon', ';'],
    ['tab', '\t'],
    ['pipe', '|'],
  ])('detects the %s delimiter', (_name, delimiter) => {
    // Prepare
    const text = ['id,name,score', '1,ann,2.5', '2,bob,3.5', '3,cy,4'].map((l) => l.replaceAll(',', delimiter)).join('\n') + '\n';
    // Act
    const sample = sniffCsv(text, true);
    // Assess
    expect(sample.dialect).toEqual({ delimiter, quote: '"', escape: '"', header: true });
    expect(sample.columns).toEqual(['id', 'name', 'score']);
    expect(sample.records).toEqual([
      ['1', 'ann', '2.5'],
      ['2', 'bob', '3.5'],
      ['3', 'cy', '4'],
    ]);
    expect(sample.notes).toEqual([]);
  });

  it('is not fooled by other delimiters inside quoted values', () => {
    // Prepare
    const text = 'name;note;n\n"a,b,c";"x|y|z";1\n"d,e,f";"p|q|r";2\n"g,h";"s|t";3\n';
    // Act
    const sample = sniffCsv(text, true);
    // Assess
    expect(sample.dialect.delimiter).toBe(';');
    expect(sample.columns).toEqual(['name', 'note', 'n']);
    expect(sample.records[0]).toEqual(['a,b,c', 'x|y|z', '1']);
  });

  it('prefers the delimiter that splits every record the same way', () => {
    // Prepare: commas in unquoted values of a tab-separated file
    const text = 'city\tpopulation\nWashington, DC\t689545\nParis\t2102650\nRome\t2749031\n';
    // Act
    const sample = sniffCsv(text, true);
    // Assess
    expect(sample.dialect.delimiter).toBe('\t');
    expect(sample.records[0]).toEqual(['Washington, DC', '689545']);
  });

  it('detects a backslash escape when the sample has escaped quotes', () => {
    // Prepare
    const text = 'id,quote\n1,"he said \\"hi, there\\""\n2,"plain"\n';
    // Act
    const sample = sniffCsv(text, true);
    // Assess
    expect(sample.dialect.escape).toBe('\\');
    expect(sample.records).toEqual([
      ['1', 'he said "hi, there"'],
      ['2', 'plain'],
    ]);
  });

  it('detects a backslash escape even when no delimiter hides in the escaped quotes', () => {
    // Prepare: both escapes split every record in two; only the backslash leaves no stray quote
    const text = 'id,quote\n1,"say \\"hi\\""\n2,"plain"\n';
    // Act
    const sample = sniffCsv(text, true);
    // Assess
    expect(sample.dialect.escape).toBe('\\');
    expect(sample.records).toEqual([
      ['1', 'say "hi"'],
      ['2', 'plain'],
    ]);
  });

  it('keeps the RFC 4180 escape for a quoted value ending in a backslash', () => {
    // Prepare
    const text = 'id,path,n\n1,"C:\\dir\\",5\n2,"D:\\",6\n';
    // Act
    const sample = sniffCsv(text, true);
    // Assess
    expect(sample.dialect.escape).toBe('"');
    expect(sample.records).toEqual([
      ['1', 'C:\\dir\\', '5'],
      ['2', 'D:\\', '6'],
    ]);
  });

  it('keeps the RFC 4180 escape when quotes are doubled', () => {
    // Act
    const sample = sniffCsv('id,quote\n1,"a ""b"" c"\n2,x\n', true);
    // Assess
    expect(sample.dialect.escape).toBe('"');
    expect(sample.records[0]).toEqual(['1', 'a "b" c']);
  });

  it('takes a text first row over typed columns as a header', () => {
    // Act
    const sample = sniffCsv('when,amount,ok\n2024-01-01,1.5,true\n2024-01-02,2,false\n', true);
    // Assess
    expect(sample.dialect.header).toBe(true);
    expect(sample.columns).toEqual(['when', 'amount', 'ok']);
    expect(sample.records).toHaveLength(2);
  });

  it('takes an all-text first row with distinct names as a header', () => {
    // Act
    const sample = sniffCsv('first,last\nAda,Lovelace\nAlan,Turing\n', true);
    // Assess
    expect(sample.dialect.header).toBe(true);
    expect(sample.columns).toEqual(['first', 'last']);
    expect(sample.records).toEqual([
      ['Ada', 'Lovelace'],
      ['Alan', 'Turing'],
    ]);
  });

  it('does not take an all-text first row with a repeated value as a header', () => {
    // Act
    const sample = sniffCsv('x,x\ny,z\n', true);
    // Assess
    expect(sample.dialect.header).toBe(false);
    expect(sample.columns).toEqual(['column_1', 'column_2']);
    expect(sample.records).toEqual([
      ['x', 'x'],
      ['y', 'z'],
    ]);
  });

  it('names the columns column_1..n when the first row is data', () => {
    // Act
    const sample = sniffCsv('1,2.5,a\n3,4.5,b\n5,6,c\n', true);
    // Assess
    expect(sample.dialect.header).toBe(false);
    expect(sample.columns).toEqual(['column_1', 'column_2', 'column_3']);
    expect(sample.records).toHaveLength(3);
    expect(sample.notes).toEqual([]);
  });

  it('ignores a byte-order mark', () => {
    // Act
    const sample = sniffCsv('\uFEFFid,name\n1,a\n2,b\n', true);
    // Assess
    expect(sample.columns).toEqual(['id', 'name']);
    expect(sample.dialect.header).toBe(true);
  });

  it('names blank header columns and suffixes duplicates, with a note for each', () => {
    // Act
    const sample = sniffCsv('id,,id, name \n1,2,3,x\n4,5,6,y\n', true);
    // Assess
    expect(sample.dialect.header).toBe(true);
    expect(sample.columns).toEqual(['id', 'column_2', 'id_2', 'name']);
    expect(sample.notes).toEqual([
      "header column 2 ('') was named 'column_2'",
      "header column 3 ('id') was named 'id_2'",
      "header column 4 (' name ') was named 'name'",
    ]);
  });

  it('does not reuse a suffixed name that the header already has', () => {
    // Act
    const sample = sniffCsv('a,a_2,a\n1,2,3\n', true);
    // Assess
    expect(sample.columns).toEqual(['a', 'a_2', 'a_3']);
  });

  it('reads a single-column file', () => {
    // Act
    const numbers = sniffCsv('value\n1\n2\n3\n', true);
    const words = sniffCsv('city\nParis\n"Washington, DC"\nRome\n', true);
    // Assess
    expect(numbers.dialect).toEqual({ delimiter: ',', quote: '"', escape: '"', header: true });
    expect(numbers.columns).toEqual(['value']);
    expect(numbers.records).toEqual([['1'], ['2'], ['3']]);
    expect(words.columns).toEqual(['city']);
    expect(words.records).toEqual([['Paris'], ['Washington, DC'], ['Rome']]);
  });

  it('sizes the columns by the most common record width when rows are ragged', () => {
    // Act
    const sample = sniffCsv('a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n', true);
    // Assess
    expect(sample.columns).toEqual(['a', 'b', 'c']);
    expect(sample.records).toHaveLength(4);
  });

  it('samples at most maxRecords records and drops a cut last record of a prefix', () => {
    // Prepare
    const text = 'n,m\n' + Array.from({ length: 50 }, (_, i) => `${i},${i * 2}`).join('\n') + '\n99,9';
    // Act
    const limited = sniffCsv(text, true, 11);
    const prefix = sniffCsv(text, false);
    // Assess
    expect(limited.records).toHaveLength(10);
    expect(prefix.records).toHaveLength(50);
    expect(prefix.records.at(-1)).toEqual(['49', '98']);
  });
});
