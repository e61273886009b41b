import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FunctionSpec } from '../topology/spec.js';
import { ENTRY_ENV, type HostMessage, type SerializedError } from './function-protocol.js';

/**
 * What a container runs: the host process (`function-host.ts`) and the handler module it loads.
 * From sources: the host and the handler's TypeScript under tsx. From bundles
 * (`lambda-artifacts.ts`): the host and the handler as built JavaScript under plain `node`,
 * the layers on `NODE_PATH`, as in Lambda.
 */
export interface FunctionCode {
  /** The host script the container runs. */
  readonly host: string;
  /** Node.js options of the container (`--import tsx` for sources). */
  readonly execArgv: readonly string[];
  /** The handler module the host loads. */
  readonly entry: string;
  /** `NODE_PATH` of the container (the function's layers). @default none */
  readonly nodePath?: string;
}

/** A function's code from the repository's TypeScript sources, run under tsx. */
export function sourceCode(spec: FunctionSpec): FunctionCode {
  return { host: fileURLToPath(new URL('./function-host.ts', import.meta.url)), execArgv: ['--import', 'tsx'], entry: spec.entry };
}

/** Containers per function at most; further invocations wait for one to be free. */
export const DEFAULT_MAX_CONTAINERS = 4;

/** Time a stopping container gets to exit on SIGTERM before it is killed. */
const STOP_GRACE_MS = 2_000;

/** The handler threw (or its container died); the invocation failed as it would in Lambda. */
export class FunctionInvocationError extends Error {
  constructor(
    readonly functionId: string,
    readonly error: SerializedError,
  ) {
    super(`${functionId} failed: ${error.name}: ${error.message}`);
    this.name = 'FunctionInvocationError';
  }
}

interface Pending {
  readonly id: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  readonly timer: NodeJS.Timeout;
}

/**
 * One local "Lambda sandbox": a child process that loads the handler once and
 * runs one invocation at a time. Killed on timeout, like Lambda discards a
 * timed-out sandbox.
 */
class Container {
  /** Resolves when the handler module is loaded; rejects with its init error. */
  readonly ready: Promise<void>;
  private readonly child: ChildProcess;
  private pending: Pending | undefined;
  private exited = false;
  /** Set when an invocation is assigned, before it starts, so no other one is. */
  private reserved = false;
  /** The invocation in flight (or the last one). */
  private current: Promise<unknown> | undefined;

  constructor(
    private readonly spec: FunctionSpec,
    code: FunctionCode,
    env: NodeJS.ProcessEnv,
    log: WriteStream,
    onExit: (container: Container) => void,
  ) {
    this.child = fork(code.host, [], {
      execArgv: [...code.execArgv],
      env: { ...env, [ENTRY_ENV]: code.entry, ...(code.nodePath === undefined ? {} : { NODE_PATH: code.nodePath }) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    this.child.stdout?.pipe(log, { end: false });
    this.child.stderr?.pipe(log, { end: false });
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (message: HostMessage) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'init-error') reject(new FunctionInvocationError(spec.id, message.error));
        else this.settle(message.id, message.ok ? { value: message.result } : { error: message.error });
      });
      // A failed signal or message (a process already gone) is no crash of the local cloud: its exit follows.
      this.child.on('error', () => undefined);
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        const error: SerializedError = { name: 'ContainerExited', message: `container exited (code ${code}, signal ${signal})` };
        reject(new FunctionInvocationError(spec.id, error));
        if (this.pending !== undefined) this.settle(this.pending.id, { error });
        onExit(this);
      });
    });
    // A failed init is reported to whoever awaits `ready`; never unhandled.
    this.ready.catch(() => undefined);
  }

  /** Takes the container for one invocation if it is alive and free. */
  reserve(): boolean {
    if (this.exited || this.reserved) return false;
    this.reserved = true;
    return true;
  }

  /** Runs one invocation in a container taken with {@link reserve}, and frees it. */
  invoke(event: unknown): Promise<unknown> {
    const running = (async () => {
      try {
        await this.ready;
        return await this.run(event);
      } finally {
        this.reserved = false;
      }
    })();
    this.current = running;
    return running;
  }

  private run(event: unknown): Promise<unknown> {
    const id = randomUUID();
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id, { error: { name: 'TimeoutError', message: `timed out after ${this.spec.timeoutSeconds} s` } });
        this.kill();
      }, timeoutMs);
      this.pending = { id, resolve, reject, timer };
      // A container killed from outside may not have reported its exit yet: its channel is closed.
      this.child.send({ type: 'invoke', id, event, deadlineMs: Date.now() + timeoutMs }, (error) => {
        if (error !== null) this.settle(id, { error: { name: 'ContainerExited', message: `container is gone: ${error.message}` } });
      });
    });
  }

  /** Stops the process once its invocation in flight, if any, has finished; takes no new one. */
  async retire(): Promise<void> {
    await this.current?.catch(() => undefined);
    await this.stop();
  }

  /** Stops the process (SIGTERM, then SIGKILL after a grace period) and waits for it to exit; an invocation in flight fails. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const kill = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(kill);
  }

  private kill(): void {
    this.exited = true;
    this.child.kill('SIGKILL');
  }

  private settle(id: string, outcome: { value: unknown } | { error: SerializedError }): void {
    const pending = this.pending;
    if (pending === undefined || pending.id !== id) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    if ('error' in outcome) pending.reject(new FunctionInvocationError(this.spec.id, outcome.error));
    else pending.resolve(outcome.value);
  }
}

/**
 * One function of the topology running locally like Lambda runs it: each
 * invocation in a container (process) of its own, one at a time; warm containers
 * are reused, new ones start when all are busy (up to `maxContainers`, then
 * invocations wait), a timed-out or crashed container is replaced. Logs go to a file.
 */
export class LocalFunction {
  private readonly containers = new Set<Container>();
  private readonly waiting: (() => void)[] = [];
  private readonly log: WriteStream;
  private stopped = false;

  private code: FunctionCode;

  constructor(
    readonly spec: FunctionSpec,
    private readonly env: NodeJS.ProcessEnv,
    logFile: string,
    private readonly maxContainers = DEFAULT_MAX_CONTAINERS,
    code: FunctionCode = sourceCode(spec),
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
    this.code = code;
  }

  /**
   * Runs new code from now on: idle containers stop at once, busy ones after their invocation
   * (as Lambda retires the previous version's sandboxes after a deploy).
   */
  async replaceCode(code: FunctionCode): Promise<void> {
    this.code = code;
    const retired = [...this.containers];
    this.containers.clear();
    await Promise.all(retired.map((container) => container.retire()));
  }

  /** Starts a container now instead of on first invocation; rejects with the handler's init error. */
  async warm(): Promise<void> {
    const [container] = this.containers;
    await (container ?? this.start()).ready;
  }

  /** Invokes the handler with an event and resolves with its result; fails once the function is stopped. */
  async invoke(event: unknown): Promise<unknown> {
    const container = await this.acquire();
    try {
      return await container.invoke(event);
    } finally {
      this.waiting.shift()?.();
    }
  }

  /** Stops every container (invocations in flight fail) and starts no more. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.waiting.splice(0)) wake();
    await Promise.all([...this.containers].map((container) => container.stop()));
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  private async acquire(): Promise<Container> {
    for (;;) {
      if (this.stopped) throw new FunctionInvocationError(this.spec.id, { name: 'FunctionStopped', message: 'the local cloud is stopping' });
      for (const container of this.containers) if (container.reserve()) return container;
      if (this.containers.size < this.maxContainers) {
        const container = this.start();
        container.reserve();
        return container;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private start(): Container {
    const container = new Container(this.spec, this.code, this.env, this.log, (gone) => {
      this.containers.delete(gone);
      this.waiting.shift()?.();
    });
    this.containers.add(container);
    return container;
  }
}
