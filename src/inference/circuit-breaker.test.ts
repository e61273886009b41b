import { CircuitState } from 'cockatiel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidRequestError, ModelRunError } from '../errors.js';
import { BackendUnavailableError } from './backend-errors.js';
import { BackendCircuit, BREAKER_DEFAULTS, type BreakerSettings, type CircuitEvent } from './circuit-breaker.js';

const TARGET = { model: 'vision', version: 3, endpointName: 'sai-vision-3', inferenceComponentName: 'sai-vision-3-ic' };

function circuitWith(settings: Partial<BreakerSettings> = {}) {
  const events: CircuitEvent[] = [];
  const circuit = new BackendCircuit(TARGET, { ...BREAKER_DEFAULTS, ...settings }, 'c1', async (event) => void events.push(event));
  const fail = (error: unknown = new BackendUnavailableError('vision', 3, 'not-ready', 'not ready', 5)) =>
    circuit.execute(async () => {
      throw error;
    });
  const succeed = () => circuit.execute(async () => 'answer');
  return { circuit, events, fail, succeed };
}

/** What a call threw. */
const thrown = async (call: () => Promise<unknown>): Promise<unknown> => call().then(() => undefined, (error: unknown) => error);

beforeEach(() => vi.useFakeTimers({ toFake: ['Date'] }));
afterEach(() => vi.useRealTimers());

describe('BackendCircuit', () => {
  it('opens after the configured failures in a row, then refuses at once as circuit-open with the time to the next probe', async () => {
    // Prepare
    const { circuit, events, fail } = circuitWith({ consecutiveFailures: 3, halfOpenAfterMs: 5_000 });

    // Act
    for (let i = 0; i < 3; i++) await thrown(fail);
    const refusedBefore = await thrown(async () => circuit.assertCallable());
    const refusedInside = await thrown(() => circuit.execute(async () => 'never called'));

    // Assess
    expect(circuit.state).toBe(CircuitState.Open);
    expect(refusedBefore).toBeInstanceOf(BackendUnavailableError);
    expect(refusedBefore).toMatchObject({ reason: 'circuit-open', retryAfterSeconds: 5 });
    expect(refusedInside).toMatchObject({ reason: 'circuit-open' });
    expect(events).toEqual([
      expect.objectContaining({ type: 'BackendCircuitOpened', backend: 'sagemaker', ...TARGET, container: 'c1', reason: expect.stringContaining('not ready') }),
    ]);
  });

  it('never counts a refusal: invalid requests neither open it nor break a run of failures', async () => {
    // Prepare
    const { circuit, fail } = circuitWith({ consecutiveFailures: 2 });

    // Act
    for (let i = 0; i < 10; i++) await thrown(() => fail(new InvalidRequestError('bad input')));
    await thrown(fail);

    // Assess
    expect(circuit.state).toBe(CircuitState.Closed);
    await thrown(fail);
    expect(circuit.state).toBe(CircuitState.Open);
  });

  it('counts model failures (5xx) and timeouts as the backend\'s', async () => {
    // Prepare
    const { circuit, fail } = circuitWith({ consecutiveFailures: 2, callTimeoutMs: 10 });

    // Act
    await thrown(() => fail(new ModelRunError('vision', 3, 'crashed', new Error('x'))));
    const timedOut = await thrown(() => circuit.execute(() => new Promise(() => undefined)));

    // Assess
    expect(timedOut).toMatchObject({ reason: 'timeout', retryAfterSeconds: 1 });
    expect(circuit.state).toBe(CircuitState.Open);
  });

  it('half-opens after the cooldown: a failed probe opens it again (announced once), a successful one closes it (announced)', async () => {
    // Prepare
    const { circuit, events, fail, succeed } = circuitWith({ consecutiveFailures: 1, halfOpenAfterMs: 5_000 });
    await thrown(fail);

    // Act: a probe after the cooldown fails; the next one succeeds.
    vi.setSystemTime(Date.now() + 5_001);
    circuit.assertCallable();
    await thrown(fail);
    const reopened = circuit.state;
    const refused = await thrown(async () => circuit.assertCallable());
    vi.setSystemTime(Date.now() + 5_001);
    const answer = await succeed();

    // Assess
    expect(reopened).toBe(CircuitState.Open);
    expect(refused).toMatchObject({ reason: 'circuit-open' });
    expect(answer).toBe('answer');
    expect(circuit.state).toBe(CircuitState.Closed);
    expect(events.map((event) => event.type)).toEqual(['BackendCircuitOpened', 'BackendCircuitClosed']);
  });

  it('refuses other calls at once while a probe is under way, rather than hold them', async () => {
    // Prepare
    const { circuit, fail } = circuitWith({ consecutiveFailures: 1, halfOpenAfterMs: 1_000 });
    await thrown(fail);
    vi.setSystemTime(Date.now() + 1_001);
    let answerProbe: (value: string) => void = () => undefined;
    const probe = circuit.execute(() => new Promise<string>((resolve) => (answerProbe = resolve)));

    // Act
    const refused = await thrown(async () => circuit.assertCallable());
    answerProbe('ok');

    // Assess
    expect(refused).toMatchObject({ reason: 'circuit-open', message: expect.stringContaining('probing') });
    expect(await probe).toBe('ok');
    expect(circuit.state).toBe(CircuitState.Closed);
  });

  it('opens on a failure rate over the window even when failures never come in a row', async () => {
    // Prepare: 10 calls a second are needed over a 1 s window; no run of failures is long enough.
    const { circuit, fail, succeed } = circuitWith({ consecutiveFailures: 100, failureRate: 0.5, failureRateWindowMs: 1_000, failureRateMinimumRps: 10 });

    // Act: alternate success and failure, then two failures.
    for (let i = 0; i < 6; i++) {
      await succeed();
      await thrown(fail);
    }
    const beforeMajority = circuit.state;
    await thrown(fail);

    // Assess
    expect(beforeMajority).toBe(CircuitState.Closed);
    expect(circuit.state).toBe(CircuitState.Open);
  });

  it('refuses calls beyond the bulkhead as busy, without counting them against the backend', async () => {
    // Prepare
    const { circuit } = circuitWith({ maxConcurrentCalls: 1, consecutiveFailures: 1 });
    let release: () => void = () => undefined;
    const inFlight = circuit.execute(() => new Promise<void>((resolve) => (release = resolve)));

    // Act
    const busy = await thrown(() => circuit.execute(async () => 'second'));
    release();
    await inFlight;

    // Assess
    expect(busy).toMatchObject({ reason: 'busy' });
    expect(circuit.state).toBe(CircuitState.Closed);
  });
});
