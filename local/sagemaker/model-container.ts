/**
 * A model container of the emulator: a child process running the emulated Triton
 * (`triton/container.ts`) on a loopback port, its output appended to a log file (the
 * endpoint's "CloudWatch log stream"). It can be invoked, crashed (for fault injection) and
 * stopped.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { MODEL_DIR_ENV, type ContainerMessage } from './triton/container-protocol.js';

const CONTAINER_ENTRY = fileURLToPath(new URL('./triton/container.ts', import.meta.url));

/** The container did not start: the model archive is not one Triton loads. */
export class ContainerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerStartError';
  }
}

/** The container is gone (crashed or stopped): nothing answers on its port. */
export class ContainerGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerGoneError';
  }
}

/** A container's answer to `/invocations`. */
export interface ContainerAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/** How to start a container. */
export interface ContainerOptions {
  /** The extracted model archive (`/opt/ml/model`). */
  readonly modelDir: string;
  /** The model's container environment (`SAGEMAKER_TRITON_DEFAULT_MODEL_NAME`…). */
  readonly environment: Readonly<Record<string, string>>;
  /** Where its output goes. */
  readonly logFile: string;
}

/** A running model container. */
export class ModelContainer {
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    /** Base URL of the container (`/ping`, `/invocations`). */
    readonly url: string,
  ) {
    child.once('exit', () => (this.exited = true));
  }

  /** Starts a container and resolves once it answers pings; rejects with {@link ContainerStartError} when the model does not load. */
  static async start(options: ContainerOptions): Promise<ModelContainer> {
    const log = await open(options.logFile, 'a');
    const child = fork(CONTAINER_ENTRY, [], {
      execArgv: ['--import', 'tsx'],
      env: { PATH: process.env['PATH'], ...options.environment, [MODEL_DIR_ENV]: options.modelDir },
      stdio: ['ignore', log.fd, log.fd, 'ipc'],
    });
    try {
      const [message] = (await Promise.race([
        once(child, 'message'),
        once(child, 'exit').then(([code]) => [{ type: 'failed', reason: `the container exited with code ${String(code)} before it answered pings` }]),
      ])) as [ContainerMessage];
      if (message.type === 'failed') throw new ContainerStartError(message.reason);
      return new ModelContainer(child, `http://127.0.0.1:${message.port}`);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    } finally {
      await log.close();
    }
  }

  /** Whether the process still runs. */
  get alive(): boolean {
    return !this.exited;
  }

  /** Forwards an invocation; rejects with {@link ContainerGoneError} when nothing answers, or the signal's reason when it aborts. */
  async invoke(body: Buffer, contentType: string | undefined, signal: AbortSignal): Promise<ContainerAnswer> {
    let response: Response;
    try {
      response = await fetch(`${this.url}/invocations`, { method: 'POST', body, headers: contentType === undefined ? {} : { 'content-type': contentType }, signal });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new ContainerGoneError(`no answer from the container: ${(error as Error).message}`);
    }
    return { status: response.status, contentType: response.headers.get('content-type') ?? undefined, body: Buffer.from(await response.arrayBuffer()) };
  }

  /** Kills the process at once (a crash). */
  crash(): void {
    this.child.kill('SIGKILL');
  }

  /** Stops the process and waits until it is gone. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await gone;
  }
}
