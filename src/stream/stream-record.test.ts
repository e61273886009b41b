import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors.js';
import { parseStreamRecord } from './stream-record.js';

const data = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64');
const kinesis = (value: unknown) => ({ partitionKey: 'card-7', sequenceNumber: '4960', data: data(value) });

describe('parseStreamRecord', () => {
  it('decodes the id and features, and takes the partition key as the routing key', () => {
    expect(parseStreamRecord(kinesis({ id: 'tx-1', features: { a: 1 } }))).toEqual({ id: 'tx-1', key: 'card-7', sequenceNumber: '4960', features: { a: 1 } });
  });

  it('names a record without an id by its sequence number, and takes array features', () => {
    expect(parseStreamRecord(kinesis({ features: [1, 2] }))).toMatchObject({ id: '4960', features: [1, 2] });
  });

  it('refuses data that is not JSON, a record without features, and an unknown field, naming the problem', () => {
    expect(() => parseStreamRecord(kinesis('{oops'))).toThrow(/not JSON/);
    expect(() => parseStreamRecord(kinesis({ id: 'x' }))).toThrow(InvalidRequestError);
    expect(() => parseStreamRecord(kinesis({ features: {}, featrues: {} }))).toThrow(/featrues/);
  });
});
