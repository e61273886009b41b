import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../topology/spec.js';
import type { EchoResult } from '../test/fixtures/local/echo-handler.js';
import { FunctionInvocationError, LocalFunction } from './local-function.js';
import { functionSpec } from '../test/support/function-spec.js';

const FIXTURES = 'test/fixtures/local';

/** A minimal valid function spec running a fixture handler. */
const spec = (id: string, file: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec =>
  functionSpec(id, { entry: `${FIXTURES}/${file}`, description: `fixture ${file}`, ...overrides });

/** The container environment: what the local cloud passes, reduced to what the fixtures need. */
const env = (id: string): NodeJS.ProcessEnv => ({
  PATH: process.env['PATH'],
  AWS_LAMBDA_FUNCTION_NAME: id,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
  CUSTOM_SETTING: `setting-of-${id}`,
});

let logDir: string;
const started: LocalFunction[] = [];

/** Creates a function that afterEach stops. */
function localFunction(fnSpec: FunctionSpec): LocalFunction {
  const fn = new LocalFunction(fnSpec, env(fnSpec.id), join(logDir, `${fnSpec.id}.log`));
  started.push(fn);
  return fn;
}

/** Resolves with what a promise rejected with (fails the test if it resolved). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  logDir = await mkdtemp(join(tmpdir(), 'local-function-'));
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((fn) => fn.stop()));
});

afterAll(async () => {
  await rm(logDir, { recursive: true, force: true });
});

describe('LocalFunction', () => {
  it('invokes the handler with the event and the environment it was given', async () => {
    // Prepare
    const fn = localFunction(spec('echo', 'echo-handler.ts'));

    // Act
    const result = (await fn.invoke({ hello: 'world', n: [1, 2] })) as EchoResult;

    // Assess
    expect(result.event).toEqual({ hello: 'world', n: [1, 2] });
    expect(result.remaining).toBe(true);
    expect(result.memory).toBe('256');
    expect(result.custom).toBe('setting-of-echo');
    expect(result.functionName).toBe('echo');
    expect(result.pid).not.toBe(process.pid);
  });

  it('reuses the warm container across invocations, with a request id per invocation', async () => {
    // Prepare
    const fn = localFunction(spec('warm', 'echo-handler.ts'));
    await fn.warm();

    // Act
    const first = (await fn.invoke({ n: 1 })) as EchoResult;
    const second = (await fn.invoke({ n: 2 })) as EchoResult;

    // Assess
    expect(second.pid).toBe(first.pid);
    expect(second.event).toEqual({ n: 2 });
    expect(second.requestId).not.toBe(first.requestId);
  });

  it('runs concurrent invocations in containers of their own, as Lambda does', async () => {
    // Prepare
    const fn = localFunction(spec('concurrent', 'echo-handler.ts'));

    // Act
    const results = (await Promise.all([fn.invoke({ n: 1 }), fn.invoke({ n: 2 }), fn.invoke({ n: 3 })])) as EchoResult[];
    const later = (await fn.invoke({ n: 4 })) as EchoResult;

    // Assess
    expect(new Set(results.map((r) => r.pid)).size).toBe(3);
    expect(results.map((r) => r.event)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(results.map((r) => r.pid)).toContain(later.pid);
  });

  it('queues invocations beyond the container limit until one is free', async () => {
    // Prepare
    const fn = new LocalFunction(spec('limited', 'echo-handler.ts'), env('limited'), join(logDir, 'limited.log'), 1);
    started.push(fn);

    // Act
    const results = (await Promise.all([fn.invoke({ n: 1 }), fn.invoke({ n: 2 })])) as EchoResult[];

    // Assess
    expect(results.map((r) => r.event)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(results[0]!.pid).toBe(results[1]!.pid);
  });

  it('rejects with FunctionInvocationError carrying the handler error, and stays warm', async () => {
    // Prepare
    const fn = localFunction(spec('thrower', 'throwing-handler.ts'));

    // Act
    const error = await rejectionOf(fn.invoke({}));
    const again = await rejectionOf(fn.invoke({}));

    // Assess
    expect(error).toBeInstanceOf(FunctionInvocationError);
    const invocationError = error as FunctionInvocationError;
    expect(invocationError.functionId).toBe('thrower');
    expect(invocationError.error.name).toBe('StoreUnavailableError');
    expect(invocationError.error.message).toBe('model store unreachable');
    expect(invocationError.message).toContain('model store unreachable');
    expect(again).toBeInstanceOf(FunctionInvocationError);
  });

  it('times out an invocation with TimeoutError', async () => {
    // Prepare
    const fn = localFunction(spec('slow', 'slow-handler.ts', { timeoutSeconds: 1 }));

    // Act
    const error = await rejectionOf(fn.invoke({}));

    // Assess
    expect(error).toBeInstanceOf(FunctionInvocationError);
    expect((error as FunctionInvocationError).error.name).toBe('TimeoutError');
    expect((error as FunctionInvocationError).message).toContain('timed out after 1 s');
  });

  it('runs the invocation right after a timeout in a new container', async () => {
    // Prepare
    const fn = localFunction(spec('sometimes-slow', 'echo-handler.ts', { timeoutSeconds: 1 }));
    const before = (await fn.invoke({})) as EchoResult;

    // Act
    const timeout = await rejectionOf(fn.invoke({ slow: true }));
    const after = (await fn.invoke({ n: 1 })) as EchoResult;

    // Assess
    expect((timeout as FunctionInvocationError).error.name).toBe('TimeoutError');
    expect(after.event).toEqual({ n: 1 });
    expect(after.pid).not.toBe(before.pid);
  });

  it('replaces a container that died during an invocation', async () => {
    // Prepare
    const fn = localFunction(spec('crasher', 'crashing-handler.ts'));

    // Act
    const first = await rejectionOf(fn.invoke({}));
    const second = await rejectionOf(fn.invoke({}));

    // Assess: each invocation got its own container, which died with it.
    expect(first).toBeInstanceOf(FunctionInvocationError);
    expect((first as FunctionInvocationError).error.name).toBe('ContainerExited');
    expect((first as FunctionInvocationError).error.message).toContain('code 3');
    expect((second as FunctionInvocationError).error.name).toBe('ContainerExited');
  });

  it('rejects warm() with the error the module threw at import', async () => {
    // Prepare
    const fn = localFunction(spec('broken', 'init-error-handler.ts'));

    // Act
    const error = await rejectionOf(fn.warm());

    // Assess
    expect(error).toBeInstanceOf(FunctionInvocationError);
    expect((error as FunctionInvocationError).error.message).toBe('FIXTURE_SETTING_THAT_IS_NEVER_SET is not set');
    expect((error as FunctionInvocationError).message).toContain('FIXTURE_SETTING_THAT_IS_NEVER_SET is not set');
  });

  it('tries a new container on the next invocation after an init error', async () => {
    // Prepare
    const fn = localFunction(spec('broken-again', 'init-error-handler.ts'));
    await rejectionOf(fn.warm());

    // Act
    const error = await rejectionOf(fn.invoke({}));

    // Assess
    expect((error as FunctionInvocationError).error.message).toBe('FIXTURE_SETTING_THAT_IS_NEVER_SET is not set');
  });

  it('rejects warm() when the module exports no handler', async () => {
    // Prepare
    const fn = localFunction(spec('no-handler', 'no-handler.ts'));

    // Act
    const error = await rejectionOf(fn.warm());

    // Assess
    expect((error as FunctionInvocationError).error.message).toContain('does not export a handler');
  });

  it('writes what the handler prints to the log file', async () => {
    // Prepare
    const fnSpec = spec('logger', 'echo-handler.ts');
    const fn = localFunction(fnSpec);

    // Act
    await fn.invoke({ log: 'hello from the container' });
    await fn.stop();

    // Assess
    const log = await readFile(join(logDir, 'logger.log'), 'utf8');
    expect(log).toContain('hello from the container');
  });

  it('stops the container', async () => {
    // Prepare
    const fn = localFunction(spec('stopper', 'echo-handler.ts'));
    const { pid } = (await fn.invoke({})) as EchoResult;

    // Act
    await fn.stop();

    // Assess: signal 0 only checks whether the process exists.
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
