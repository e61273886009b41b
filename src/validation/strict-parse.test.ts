import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { InvalidRequestError } from '../errors.js';
import { parseOwnJson } from './own-json.js';
import { nearMiss, parseWith } from './strict-parse.js';

const schema = z.object({
  name: z.string(),
  description: z.optional(z.string()),
  tags: z.optional(z.record(z.string(), z.string())),
  autoTrain: z.optional(z.object({ target: z.string(), hyperparameters: z.optional(z.record(z.string(), z.unknown())) })),
  steps: z.optional(z.array(z.object({ weight: z.number() }))),
  mode: z.optional(z.union([z.object({ fixed: z.number() }), z.object({ auto: z.boolean() })])),
});
const parse = (json: string) => parseWith(schema, parseOwnJson(json), 'thing');

describe('parseWith (every body is strict)', () => {
  it('names an unknown top-level field and the known field it resembles', () => {
    expect(() => parse('{"name":"m","descripton":"x"}')).toThrowError(InvalidRequestError);
    expect(() => parse('{"name":"m","descripton":"x"}')).toThrowError("invalid thing: unknown field 'descripton' (did you mean 'description'?)");
  });

  it('names unknown fields at any depth: nested objects, array items, union members', () => {
    expect(() => parse('{"name":"m","autoTrain":{"target":"y","hyperparams":{}}}')).toThrowError("unknown field 'autoTrain.hyperparams' (did you mean 'hyperparameters'?)");
    expect(() => parse('{"name":"m","steps":[{"weight":1},{"weight":2,"wieght":3}]}')).toThrowError("unknown field 'steps.1.wieght' (did you mean 'weight'?)");
    expect(() => parse('{"name":"m","mode":{"fixed":1,"extra":true}}')).toThrowError("unknown field 'mode.extra' (known: fixed, auto)");
  });

  it('lists the known fields when nothing resembles the unknown one', () => {
    expect(() => parse('{"name":"m","zzz":1}')).toThrowError('unknown field \'zzz\' (known: name, description, tags, autoTrain, steps, mode)');
  });

  it('keeps record keys named like built-ins as data, prototype-free', () => {
    const body = parse('{"name":"m","tags":{"constructor":"a","toString":"b","hasOwnProperty":"c"}}');
    expect(Object.getPrototypeOf(body.tags)).toBeNull();
    expect(Object.keys(body.tags!)).toEqual(['constructor', 'toString', 'hasOwnProperty']);
    expect(body.tags!['constructor']).toBe('a');
    expect(Object.getPrototypeOf(body)).toBeNull();
  });

  it('refuses a __proto__ key instead of losing it (it cannot be stored as data)', () => {
    expect(() => parse('{"name":"m","tags":{"__proto__":{"x":"y"},"a":"b"}}')).toThrowError("invalid thing: 'tags.__proto__': '__proto__' cannot be used as a key");
    expect(() => parse('{"name":"m","__proto__":{"name":"n"}}')).toThrowError("unknown field '__proto__'");
    expect(() => parse('{"name":"m","autoTrain":{"target":"y","hyperparameters":{"__proto__":1}}}')).toThrowError("'autoTrain.hyperparameters.__proto__': '__proto__' cannot be used as a key");
  });

  it('reports strict schemas\' own unknown-key issues the same way', () => {
    const strict = z.strictObject({ version: z.number(), reason: z.optional(z.string()) });
    expect(() => parseWith(strict, parseOwnJson('{"version":1,"reasn":"x"}'), 'alias')).toThrowError("invalid alias: unknown field 'reasn' (did you mean 'reason'?)");
  });

  it('states the rule a record key broke, naming the record and the key (not "Invalid key in record")', () => {
    const rule = 'tag keys must be 1–8 characters';
    const keyed = z.object({ tags: z.record(z.string().check(z.minLength(1, rule), z.maxLength(8, rule)), z.string()) });
    expect(() => parseWith(keyed, parseOwnJson('{"tags":{"":"v"}}'), 'tags')).toThrowError(`invalid tags: tags: key '': ${rule}`);
    expect(() => parseWith(keyed, parseOwnJson(`{"tags":{"${'k'.repeat(5000)}":"v"}}`), 'tags')).toThrowError(
      `invalid tags: tags: key '${'k'.repeat(64)}…' (5000 characters): ${rule}`,
    );
  });

  it('quotes at most a short prefix of a long unknown key', () => {
    const long = 'k'.repeat(10_000);
    const error = (() => {
      try {
        parse(`{"name":"m","${long}":1}`);
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('no error');
    })();
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('nearMiss', () => {
  it('suggests a small edit or a shortening, nothing far off', () => {
    expect(nearMiss('rejectTreshold', ['rejectThreshold', 'schema'])).toBe('rejectThreshold');
    expect(nearMiss('hyperparams', ['hyperparameters', 'seed'])).toBe('hyperparameters');
    expect(nearMiss('colour', ['name', 'seed'])).toBeUndefined();
  });
});
