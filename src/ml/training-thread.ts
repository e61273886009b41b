/**
 * Trains on a worker thread ({@link trainModel}: read, split, preprocess, train, evaluate,
 * export). Training is synchronous CPU work; on its own thread it leaves the worker's event
 * loop free to write progress, notice a cancel request, and stop the run before the function's
 * time runs out. The thread runs JavaScript only (ONNX Runtime runs in the main thread, which
 * verifies the export), so terminating it is immediate and safe whatever it is doing.
 *
 * The thread loads this very module (the function's bundle in Lambda, the TypeScript source
 * under tsx), which starts the pipeline when it finds its input in `workerData`.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { TrainingFailedError } from './errors.js';
import { trainModel, type PipelineInput, type PipelineProgress, type TrainedArtifact } from './pipeline.js';

const INPUT_KEY = 'serverless-ai-platform:training-input';

type ThreadMessage =
  | { readonly type: 'progress'; readonly progress: PipelineProgress }
  | { readonly type: 'done'; readonly result: TrainedArtifact }
  | { readonly type: 'failed'; readonly name: string; readonly message: string; readonly metrics?: Record<string, number> };

/** A pipeline running on its thread. */
export interface TrainingRun {
  readonly result: Promise<TrainedArtifact>;
  /** Ends the run now; `result` rejects with `reason`. */
  stop(reason: Error): void;
}

/** Starts `input`'s pipeline on a new thread; the files' buffers move to it (transferred, not copied). */
export function startTrainingThread(input: PipelineInput, onProgress: (progress: PipelineProgress) => void): TrainingRun {
  const entry = import.meta.url;
  const options = { workerData: { [INPUT_KEY]: input }, transferList: [...input.files] };
  // Unbundled TypeScript (local cloud, tests): the thread loads this file through tsx, as its
  // process does (loader hooks are not inherited by threads). The bundle in Lambda is plain JavaScript.
  const worker = entry.endsWith('.ts')
    ? new Worker(`import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`, { ...options, eval: true })
    : new Worker(new URL(entry), options);
  let stopReason: Error | undefined;
  const result = new Promise<TrainedArtifact>((resolve, reject) => {
    worker.on('message', (message: ThreadMessage) => {
      if (message.type === 'progress') onProgress(message.progress);
      else if (message.type === 'done') {
        resolve(message.result);
        void worker.terminate();
      }
      // The thread touches no AWS service: whatever fails there fails again on a retry.
      else reject(new TrainingFailedError(message.name === 'TrainingFailedError' ? message.message : `training failed: ${message.message}`, message.metrics));
    });
    worker.on('error', (error: Error & { code?: string }) =>
      reject(
        stopReason ??
          new TrainingFailedError(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `training ran out of memory: ${error.message}` : `training failed: ${error.message}`),
      ),
    );
    worker.on('exit', (code) => reject(stopReason ?? new TrainingFailedError(`the training thread stopped unexpectedly (exit code ${code})`)));
  });
  return {
    result,
    stop(reason) {
      stopReason = reason;
      void worker.terminate();
    },
  };
}

async function runInThread(input: PipelineInput): Promise<void> {
  const post = (message: ThreadMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);
  try {
    const result = await trainModel(input, (progress) => post({ type: 'progress', progress }));
    // A copy owns its buffer outright (a small Buffer may sit in Node's shared pool), so it can be transferred.
    const onnx = new Uint8Array(result.onnx);
    const transfer = [onnx.buffer, result.check.expected.buffer as ArrayBuffer];
    for (const column of result.check.columns) if (column.kind !== 'categorical') transfer.push(column.values.buffer as ArrayBuffer);
    post({ type: 'done', result: { ...result, onnx } }, transfer);
  } catch (error) {
    const { name, message } = error as Error;
    post({ type: 'failed', name, message, ...(error instanceof TrainingFailedError && error.metrics ? { metrics: error.metrics } : {}) });
  }
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[INPUT_KEY] !== undefined) {
  void runInThread((workerData as Record<string, PipelineInput>)[INPUT_KEY]!);
}
