import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FunctionSpec } from '../infra/topology.js';
import { ENTRY_ENV, type HostMessage, type SerializedError } from './function-protocol.js';

const HOST_SCRIPT = fileURLToPath(new URL('./function-host.ts', import.meta.url));

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
  child: ChildProcess;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * One function of the topology running locally like a Lambda container: its own
 * process and environment, loaded once and reused (warm), killed on timeout and
 * started again on the next invocation (a new cold container), logs to a file.
 */
export class LocalFunction {
  private child: ChildProcess | undefined;
  private starting: Promise<ChildProcess> | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly log: WriteStream;

  constructor(
    readonly spec: FunctionSpec,
    private readonly env: NodeJS.ProcessEnv,
    logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  /** Starts the container now instead of on first invocation. */
  async warm(): Promise<void> {
    await this.container();
  }

  /** Invokes the handler with an event and resolves with its result. */
  async invoke(event: unknown): Promise<unknown> {
    const child = await this.container();
    const id = randomUUID();
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new FunctionInvocationError(this.spec.id, { name: 'TimeoutError', message: `timed out after ${this.spec.timeoutSeconds} s` }));
        // Lambda discards a timed-out sandbox: the next invocation gets a new container.
        if (this.child === child) this.child = undefined;
        child.kill('SIGKILL');
      }, timeoutMs);
      this.pending.set(id, { child, resolve, reject, timer });
      child.send({ type: 'invoke', id, event, deadlineMs: Date.now() + timeoutMs });
    });
  }

  /** Stops the container. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  private container(): Promise<ChildProcess> {
    if (this.child !== undefined) return Promise.resolve(this.child);
    this.starting ??= this.spawn().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private spawn(): Promise<ChildProcess> {
    const child = fork(HOST_SCRIPT, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...this.env, [ENTRY_ENV]: this.spec.entry },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    return new Promise((resolve, reject) => {
      child.on('message', (message: HostMessage) => {
        if (message.type === 'ready') {
          this.child = child;
          resolve(child);
        } else if (message.type === 'init-error') {
          reject(new FunctionInvocationError(this.spec.id, message.error));
        } else {
          const pending = this.pending.get(message.id);
          if (pending === undefined) return;
          this.pending.delete(message.id);
          clearTimeout(pending.timer);
          if (message.ok) pending.resolve(message.result);
          else pending.reject(new FunctionInvocationError(this.spec.id, message.error));
        }
      });
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        const error: SerializedError = { name: 'ContainerExited', message: `container exited (code ${code}, signal ${signal})` };
        reject(new FunctionInvocationError(this.spec.id, error));
        for (const [id, pending] of this.pending) {
          if (pending.child !== child) continue;
          clearTimeout(pending.timer);
          pending.reject(new FunctionInvocationError(this.spec.id, error));
          this.pending.delete(id);
        }
      });
    });
  }
}
