import { describe, expect, it } from 'vitest';
import { apiEvent } from '../../test/support/api-event.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { AliasRecord } from '../registry/types.js';
import type { ShadowSummary } from './shadow-comparisons.js';
import { createShadowRoutes } from './shadow-routes.js';

const ROUTE = 'GET /models/{name}/aliases/{alias}/shadow';
const NOW = new Date('2026-11-24T12:00:00.000Z');
const PAIR: ShadowSummary = {
  primaryVersion: 1,
  shadowVersion: 2,
  copies: 10,
  shadowErrors: 1,
  agreementRate: 0.9,
  meanAbsDiff: 0.01,
  categoricalCompared: 9,
  numericCompared: 27,
  firstMinute: '2026-11-24T11:00Z',
  lastMinute: '2026-11-24T11:59Z',
};

/** Routes over fakes that record the summaries asked for; only `iris`/`prod` exists. */
function routes() {
  const asked: { model: string; alias: string; since: Date }[] = [];
  const table = createShadowRoutes({
    comparisons: {
      summary: async (model, alias, since) => {
        asked.push({ model, alias, since });
        return [PAIR];
      },
    },
    registry: {
      getAlias: async (model, alias) => {
        if (model !== 'iris' || alias !== 'prod') throw new NotFoundError(`model '${model}' has no alias '${alias}'`);
        return { alias } as AliasRecord;
      },
    },
    now: () => NOW,
  });
  return { route: table[ROUTE]!, asked };
}

const request = (query: Record<string, string> | null, alias = 'prod') => ({
  ...apiEvent({ method: 'GET', resource: '/models/{name}/aliases/{alias}/shadow', pathParameters: { name: 'iris', alias } }),
  queryStringParameters: query,
});

describe('GET /models/{name}/aliases/{alias}/shadow', () => {
  it('summarises the last 24 hours by default', async () => {
    // Prepare
    const { route, asked } = routes();

    // Act
    const response = await route(request(null));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ model: 'iris', alias: 'prod', since: '2026-11-23T12:00:00.000Z', comparisons: [PAIR] });
    expect(asked).toEqual([{ model: 'iris', alias: 'prod', since: new Date('2026-11-23T12:00:00.000Z') }]);
  });

  it('takes a number of hours or an ISO time', async () => {
    // Prepare
    const { route } = routes();

    // Act
    const hours = JSON.parse((await route(request({ hours: '720' }))).body) as { since: string };
    const since = JSON.parse((await route(request({ since: '2026-11-24T10:30+01:00' }))).body) as { since: string };

    // Assess
    expect(hours.since).toBe('2026-10-25T12:00:00.000Z');
    expect(since.since).toBe('2026-11-24T09:30:00.000Z');
  });

  it.each([
    [{ hours: '0' }, "invalid hours '0': expected an integer from 1 to 720"],
    [{ hours: '721' }, "invalid hours '721'"],
    [{ hours: '1.5' }, "invalid hours '1.5'"],
    [{ since: 'yesterday' }, "invalid since 'yesterday': expected an ISO 8601 time"],
    [{ since: '2026-13-45T00:00Z' }, "invalid since '2026-13-45T00:00Z'"],
    [{ since: '2026-11-24T00:00Z', hours: '1' }, "give either 'since' or 'hours', not both"],
  ])('answers 400 naming the problem for %j', async (query, message) => {
    // Prepare
    const { route } = routes();

    // Act
    const answer = route(request(query));

    // Assess
    await expect(answer).rejects.toThrowError(InvalidRequestError);
    await expect(answer).rejects.toThrowError(message);
  });

  it('answers 404 for an unknown alias and 400 for an invalid one', async () => {
    // Prepare
    const { route, asked } = routes();

    // Act + Assess
    await expect(route(request(null, 'canary'))).rejects.toThrowError(NotFoundError);
    await expect(route(request(null, 'Bad Alias'))).rejects.toThrowError(InvalidRequestError);
    expect(asked).toEqual([]);
  });
});
