import { describe, expect, it } from 'vitest';
import { isBinaryMediaType } from './binary-media-types.js';
import { BINARY_MEDIA_TYPES } from './limits.js';

describe('isBinaryMediaType', () => {
  it('matches the platform\'s binary media type, its parameters ignored, and nothing else', () => {
    // Act
    const answers = [
      'application/octet-stream',
      'application/octet-stream; q=0.9',
      ' Application/Octet-Stream ;charset=binary',
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/*',
      '*/*',
      'application',
      '',
      undefined,
    ].map((header) => [header, isBinaryMediaType(header, BINARY_MEDIA_TYPES)]);

    // Assess
    expect(answers).toEqual([
      ['application/octet-stream', true],
      ['application/octet-stream; q=0.9', true],
      [' Application/Octet-Stream ;charset=binary', true],
      ['application/json', false],
      ['application/json; charset=utf-8', false],
      ['text/plain', false],
      ['application/*', false],
      ['*/*', false],
      ['application', false],
      ['', false],
      [undefined, false],
    ]);
  });

  it('reads only the first media type of an Accept list, whatever the q values', () => {
    // Act
    const first = isBinaryMediaType('application/octet-stream, application/json', BINARY_MEDIA_TYPES);
    const second = isBinaryMediaType('application/json, application/octet-stream', BINARY_MEDIA_TYPES);
    const preferredSecond = isBinaryMediaType('application/json;q=0.1, application/octet-stream;q=1', BINARY_MEDIA_TYPES);

    // Assess
    expect([first, second, preferredSecond]).toEqual([true, false, false]);
  });

  it('expands wildcards in the entries as API Gateway does: type/* and */*, never */subtype', () => {
    // Prepare
    const matches = (header: string, entries: readonly string[]) => isBinaryMediaType(header, entries);

    // Act & Assess
    expect(matches('image/png', ['image/*'])).toBe(true);
    expect(matches('image/*', ['image/*'])).toBe(true);
    expect(matches('application/whatever', ['application/*'])).toBe(true);
    expect(matches('text/plain', ['image/*'])).toBe(false);
    expect(matches('random/test', ['*/test'])).toBe(false);
    expect(matches('*/test', ['*/test'])).toBe(false);
    expect(matches('text/html', ['*/*'])).toBe(true);
    expect(matches('*/*', ['*/*'])).toBe(true);
    expect(matches('*/*', ['image/png'])).toBe(false);
    expect(matches('image/*', ['image/png'])).toBe(false);
    expect(matches('image/jpg', ['image/png', 'image/jpg'])).toBe(true);
  });

  it('ignores an entry that is not type/subtype', () => {
    // Act & Assess
    expect(isBinaryMediaType('application/octet-stream', ['application', 'application/octet-stream/x', ''])).toBe(false);
  });
});
