/**
 * Hosting: extracted model archives (one folder per SageMaker model, extracted once while
 * containers use it, removed when the last of them stops) and the container of each endpoint
 * variant or inference component, which can crash (fault injection) and is then replaced after
 * the configured delay, as SageMaker's health checks replace an instance.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { mkdir, rm } from 'node:fs/promises';
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
    /** Called once the slot has stopped: it no longer needs its model's files. */
    private readonly onStopped: () => void,
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
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.replacement);
    try {
      await this.container?.stop();
    } finally {
      this.onStopped();
    }
  }
}

/** A model's archive extracted into its folder, and how many container slots use it. */
class ExtractedModel {
  users = 0;
  private extraction: Promise<string> | undefined;
  private removed = false;

  constructor(
    readonly dir: string,
    private readonly extract: () => Promise<void>,
  ) {}

  /** The folder, extracted on first use; a failed extraction is tried again next time (the archive may be uploaded since). */
  folder(): Promise<string> {
    // A replacement still starting when its slot stopped finds the folder gone, and leaves none behind.
    if (this.removed) return Promise.reject(new HostingError('The model is no longer hosted.'));
    if (this.extraction === undefined) {
      const extraction = this.extract().then(() => this.dir);
      extraction.catch(() => {
        if (this.extraction === extraction) this.extraction = undefined;
      });
      this.extraction = extraction;
    }
    return this.extraction;
  }

  /** Removes the folder once an extraction under way has settled. */
  async remove(): Promise<void> {
    this.removed = true;
    await this.extraction?.catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

const archiveKey = (spec: ContainerSpec) => `${spec.modelName}\n${spec.modelDataUrl ?? ''}`;

/** Starts containers for models, extracting each model's archive while containers use it. */
export class Hosting {
  /** Extracted archives in use, by model name and archive URL. */
  private readonly models = new Map<string, ExtractedModel>();
  /** Folders being removed: extracting into one again waits for its removal. */
  private readonly removals = new Map<string, Promise<void>>();

  constructor(
    private readonly s3: S3Client,
    /** Where archives are extracted (`models/<model name>`) and container logs written. */
    private readonly stateDir: string,
  ) {}

  /** Takes a use of a model's extracted archive (see {@link release}). */
  private use(spec: ContainerSpec): ExtractedModel {
    const key = archiveKey(spec);
    let model = this.models.get(key);
    if (model === undefined) {
      const dir = join(this.stateDir, 'models', spec.modelName);
      const { modelDataUrl } = spec;
      model = new ExtractedModel(dir, async () => {
        if (modelDataUrl === undefined) throw new HostingError('The model has no ModelDataUrl: the emulated Triton needs a model repository archive.');
        await this.removals.get(dir);
        await extractModelArchive(this.s3, modelDataUrl, dir);
      });
      this.models.set(key, model);
    }
    model.users += 1;
    return model;
  }

  /** Gives a use back; the last one removes the model's folder. */
  private release(spec: ContainerSpec, model: ExtractedModel): void {
    model.users -= 1;
    if (model.users > 0) return;
    this.models.delete(archiveKey(spec));
    const removal = model.remove().finally(() => {
      if (this.removals.get(model.dir) === removal) this.removals.delete(model.dir);
    });
    this.removals.set(model.dir, removal);
  }

  private async startContainer(spec: ContainerSpec, model: ExtractedModel, logName: string, variantName: string): Promise<ModelContainer> {
    if (!spec.image.includes('tritonserver')) {
      throw new HostingError(`The local SageMaker emulator hosts Triton Inference Server images only (sagemaker-tritonserver); the model's image is '${spec.image}'.`);
    }
    let modelDir: string;
    try {
      modelDir = await model.folder();
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
    const model = this.use(spec);
    const start = () => this.startContainer(spec, model, logName, variantName);
    try {
      return new HostedModel(await start(), start, () => this.release(spec, model));
    } catch (error) {
      this.release(spec, model);
      throw error;
    }
  }

  /** A container slot whose container starts in the background (an emulator restarting what was in service). */
  hostInBackground(spec: ContainerSpec, logName: string, variantName: string): HostedModel {
    const model = this.use(spec);
    const host = new HostedModel(undefined, () => this.startContainer(spec, model, logName, variantName), () => this.release(spec, model));
    host.replaceAfter(0);
    return host;
  }
}
