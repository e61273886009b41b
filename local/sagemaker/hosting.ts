/**
 * Hosting: extracted model archives (one folder per SageMaker model, extracted once) and the
 * container of each endpoint variant or inference component, which can crash (fault injection)
 * and is then replaced after the configured delay, as SageMaker's health checks replace an
 * instance.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { extractModelArchive, ModelArchiveError } from './model-archive.js';
import { ContainerGoneError, ContainerStartError, ModelContainer, type ContainerAnswer } from './model-container.js';

/** What a model container runs: the model's image, archive and environment. */
export interface ContainerSpec {
  readonly modelName: string;
  readonly image: string;
  readonly modelDataUrl?: string;
  readonly environment: Readonly<Record<string, string>>;
}

/** Why a container cannot serve: the text is SageMaker's `FailureReason`. */
export class HostingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostingError';
  }
}

/** A variant's or component's container slot: crashes, replacements and restarts happen here. */
export class HostedModel {
  private replacement: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private container: ModelContainer | undefined,
    private readonly restart: () => Promise<ModelContainer>,
  ) {}

  /** Base URL of the running container (for calling `/invocations` directly); none while it is replaced. */
  get url(): string | undefined {
    return this.container?.url;
  }

  /** Whether the container runs. */
  get alive(): boolean {
    return this.container?.alive ?? false;
  }

  /** Forwards an invocation; {@link ContainerGoneError} while the container is down. */
  invoke(body: Buffer, contentType: string | undefined, signal: AbortSignal): Promise<ContainerAnswer> {
    if (this.container === undefined || !this.container.alive) return Promise.reject(new ContainerGoneError('the container is not running'));
    return this.container.invoke(body, contentType, signal);
  }

  /** Starts a new container after `ms` (the current one, if any, is already gone). */
  replaceAfter(ms: number): void {
    clearTimeout(this.replacement);
    this.replacement = setTimeout(() => {
      void this.restart().then(
        async (container) => {
          if (this.stopped) await container.stop();
          else this.container = container;
        },
        () => undefined,
      );
    }, ms);
  }

  /** Kills the container; a new one starts after `replaceAfterMs`. */
  crash(replaceAfterMs: number): void {
    this.container?.crash();
    this.replaceAfter(replaceAfterMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.replacement);
    await this.container?.stop();
  }
}

/** Starts containers for models, extracting each model's archive once. */
export class Hosting {
  private readonly archives = new Map<string, Promise<string>>();

  constructor(
    private readonly s3: S3Client,
    /** Where archives are extracted and container logs written. */
    private readonly stateDir: string,
  ) {}

  private modelDir(spec: ContainerSpec): Promise<string> {
    const key = `${spec.modelName}\n${spec.modelDataUrl ?? ''}`;
    let dir = this.archives.get(key);
    if (dir === undefined) {
      const into = join(this.stateDir, 'models', spec.modelName);
      dir = spec.modelDataUrl === undefined ? Promise.reject(new HostingError('The model has no ModelDataUrl: the emulated Triton needs a model repository archive.')) : extractModelArchive(this.s3, spec.modelDataUrl, into).then(() => into);
      // A failed download is tried again next time (the archive may be uploaded since).
      dir.catch(() => this.archives.delete(key));
      this.archives.set(key, dir);
    }
    return dir;
  }

  /** Forgets a deleted model's extracted archive. */
  forget(modelName: string): void {
    for (const key of this.archives.keys()) if (key.startsWith(`${modelName}\n`)) this.archives.delete(key);
  }

  private async startContainer(spec: ContainerSpec, logName: string, variantName: string): Promise<ModelContainer> {
    if (!spec.image.includes('tritonserver')) {
      throw new HostingError(`The local SageMaker emulator hosts Triton Inference Server images only (sagemaker-tritonserver); the model's image is '${spec.image}'.`);
    }
    let modelDir: string;
    try {
      modelDir = await this.modelDir(spec);
    } catch (error) {
      if (error instanceof ModelArchiveError || error instanceof HostingError) throw new HostingError(error.message);
      throw error;
    }
    await mkdir(join(this.stateDir, 'logs'), { recursive: true });
    try {
      return await ModelContainer.start({ modelDir, environment: spec.environment, logFile: join(this.stateDir, 'logs', `${logName}.log`) });
    } catch (error) {
      if (!(error instanceof ContainerStartError)) throw error;
      throw new HostingError(
        `The primary container for production variant ${variantName} did not pass the ping health check. Please check CloudWatch logs for this endpoint. (Triton: ${error.message})`,
      );
    }
  }

  /** Starts a container for a model; {@link HostingError} when it cannot serve. */
  async host(spec: ContainerSpec, logName: string, variantName: string): Promise<HostedModel> {
    const start = () => this.startContainer(spec, logName, variantName);
    return new HostedModel(await start(), start);
  }

  /** A container slot whose container starts in the background (an emulator restarting what was in service). */
  hostInBackground(spec: ContainerSpec, logName: string, variantName: string): HostedModel {
    const host = new HostedModel(undefined, () => this.startContainer(spec, logName, variantName));
    host.replaceAfter(0);
    return host;
  }
}
