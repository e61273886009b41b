import { describe, expect, it } from 'vitest';
import { decimalValue } from './decimal.js';

describe('decimalValue', () => {
  it.each([
    ['35', 35],
    ['-12685.08', -12685.08],
    ['+.5', 0.5],
    ['5.', 5],
    ['-0', -0],
    [' 7 ', 7],
    ['1e3', 1000],
    ['-.5e2', -50],
    ['0.1000000000000000055511151231257827', 0.1],
    ['123456789012345678', 123456789012345680],
  ])('reads %j as %d', (text, expected) => {
    expect(Object.is(decimalValue(text), expected)).toBe(true);
  });

  it.each(['', ' ', '.', '-', '+', 'abc', '0x1F', '0b101', 'Infinity', 'NaN', '1e', '1.2.3', '1,5', '١٢'])('reads %j as NaN', (text) => {
    expect(decimalValue(text)).toBeNaN();
  });

  it('reads every decimal exactly as Number does', () => {
    // Prepare: decimals of every length the fast path takes, and a few beyond it
    const texts: string[] = [];
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647);
    for (let i = 0; i < 20_000; i++) {
      const whole = String(next()).slice(0, 1 + (next() % 9));
      const fraction = String(next()).padStart(10, '0').slice(0, next() % 11);
      texts.push(`${next() % 2 ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`);
    }

    // Act
    const mismatches = texts.filter((text) => !Object.is(decimalValue(text), Number(text)));

    // Assess
    expect(mismatches).toEqual([]);
  });
});
