import { describe, expect, it } from 'vitest';
import { clip, quote, QUOTE_MAX_CHARS } from './errors.js';

describe('quote', () => {
  it('quotes short text whole', () => {
    expect(quote('iris')).toBe("'iris'");
    expect(quote('x'.repeat(QUOTE_MAX_CHARS))).toBe(`'${'x'.repeat(QUOTE_MAX_CHARS)}'`);
  });

  it('quotes a short prefix of long text and says how long it was', () => {
    expect(quote('a'.repeat(5_000_000))).toBe(`'${'a'.repeat(QUOTE_MAX_CHARS)}…' (5000000 characters)`);
  });

  it('never cuts a surrogate pair in two', () => {
    const text = `${'a'.repeat(QUOTE_MAX_CHARS - 1)}😀${'b'.repeat(10)}`;
    expect(quote(text)).toBe(`'${'a'.repeat(QUOTE_MAX_CHARS - 1)}…' (${text.length} characters)`);
  });
});

describe('clip', () => {
  it('bounds unquoted text to the given length', () => {
    expect(clip('short', 10)).toBe('short');
    expect(clip('0123456789abc', 10)).toBe('0123456789… (13 characters)');
  });
});
