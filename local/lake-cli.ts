/**
 * `npm run lake -- <command>`: shortcuts for the local lake of a running `npm start`.
 *
 *   drop <file> [dataset]   upload a file to raw/<dataset>/ (default: the file name without
 *                           extensions) and wait for its dataset version (or the version it
 *                           duplicates) and, when the dataset auto-trains, its training job
 *   redrive [queue]         move dead-lettered messages back to their queue (default: ingest),
 *                           as `aws sqs start-message-move-task` does in AWS
 *   watch <job id>          print a training job's progress until it finishes
 *
 * Reads the endpoints `npm start` wrote to `$LOCAL_CLOUD_DIR/endpoints.json` (default
 * `.local-cloud`).
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { QueueId } from '../topology/spec.js';
import type { DatasetVersion } from '../src/lake/types.js';
import type { TrainingJob } from '../src/training/types.js';
import { isDatasetName } from '../src/lake/zones.js';
import { endpointsFile, functionLogFile } from './cloud.js';
import { awaitsAutoTrain, dropOutcome, dropReport, snapshotOf } from './lake-drop.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type EmulatorEndpoints } from './emulators.js';
import type { ProvisionedResources } from './provision.js';
import { watchJob } from './job-watch.js';
import { notRunningMessage } from './not-running.js';
import { redriveDeadLetters } from './redrive.js';
import { apiClient } from './seed.js';

interface Endpoints {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly endpoints: EmulatorEndpoints;
  readonly resources: ProvisionedResources;
}

const USAGE = 'usage: npm run lake -- drop <file> [dataset] | redrive [queue] | watch <job id>';
/** How long `drop` waits for the version. */
const WAIT_MS = 120_000;

/** The state folder of the local cloud this command talks to. */
const stateDir = resolve(process.env['LOCAL_CLOUD_DIR'] ?? '.local-cloud');
const ingestLog = functionLogFile(stateDir, 'ingest');

async function loadEndpoints(): Promise<Endpoints> {
  const file = endpointsFile(stateDir);
  const text = await readFile(file, 'utf8').catch(() => {
    throw new Error(`no ${file}: start the platform first with 'npm start'`);
  });
  return JSON.parse(text) as Endpoints;
}

/** Refuses a path that is not a readable file, before anything is uploaded. */
async function assertFile(file: string): Promise<void> {
  const found = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new Error(error.code === 'ENOENT' ? `no file '${file}': give the path of a CSV, JSON Lines or Parquet file` : `cannot read '${file}': ${error.message}`);
  });
  if (!found.isFile()) throw new Error(`'${file}' is ${found.isDirectory() ? 'a directory' : 'not a regular file'}: drop one file at a time`);
}

async function drop(local: Endpoints, file: string, datasetArg: string | undefined): Promise<void> {
  const fileName = basename(file);
  const dataset = datasetArg ?? fileName.replace(/\..*$/, '');
  if (!isDatasetName(dataset)) throw new Error(`'${dataset}' is not a valid dataset name; name one: npm run lake -- drop ${file} <dataset>`);
  const api = apiClient(local.baseUrl, local.apiKey);
  const versions = async () => ((await api('GET', `/datasets/${encodeURIComponent(dataset)}/versions?limit=100`)).body['versions'] ?? []) as DatasetVersion[];
  const before = snapshotOf(await versions());
  const s3 = new S3Client({ region: LOCAL_REGION, endpoint: local.endpoints.s3, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
  const key = `raw/${dataset}/${fileName}`;
  const put = await s3.send(new PutObjectCommand({ Bucket: local.resources.bucketName, Key: key, Body: await readFile(file) }));
  s3.destroy();
  const dropped = { key, eTag: (put.ETag ?? '').replaceAll('"', '') };
  console.log(`uploaded s3://${local.resources.bucketName}/${key}; waiting for the dataset version ...`);
  const deadline = Date.now() + WAIT_MS;
  let outcome: ReturnType<typeof dropOutcome>;
  let autoTrains: boolean | undefined;
  while (Date.now() < deadline) {
    outcome = dropOutcome(await versions(), before, dropped);
    if (outcome !== undefined) {
      // The definition is read once the version exists (the first file of a dataset creates it), and only once.
      autoTrains ??= (await api('GET', `/datasets/${encodeURIComponent(dataset)}`)).body['autoTrain'] !== undefined;
      if (!awaitsAutoTrain(outcome.version, autoTrains)) {
        console.log(dropReport(outcome));
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (outcome === undefined) throw new Error(`no finished version of '${key}' after ${WAIT_MS / 1000} s; see ${ingestLog}`);
  console.log(dropReport(outcome));
  throw new Error(`the dataset auto-trains, but no training job was recorded for version ${outcome.version.version} after ${WAIT_MS / 1000} s; see ${ingestLog}`);
}

async function redrive(local: Endpoints, queueArg: string | undefined): Promise<void> {
  const queueId = (queueArg ?? 'ingest') as QueueId;
  const queue = local.resources.queues[queueId];
  if (queue === undefined) throw new Error(`no queue '${queueId}'; queues: ${Object.keys(local.resources.queues).join(', ')}`);
  const sqs = new SQSClient({ region: LOCAL_REGION, endpoint: local.endpoints.sqs, credentials: LOCAL_CREDENTIALS });
  const moved = await redriveDeadLetters(sqs, queue.dlqUrl, queue.url);
  sqs.destroy();
  console.log(`moved ${moved} message${moved === 1 ? '' : 's'} from the ${queueId} dead-letter queue back to the ${queueId} queue`);
}

async function watch(local: Endpoints, jobId: string): Promise<void> {
  const api = apiClient(local.baseUrl, local.apiKey);
  const read = async () => {
    const reply = await api('GET', `/jobs/${encodeURIComponent(jobId)}`);
    if (reply.status !== 200) throw new Error(`GET /jobs/${jobId}: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body as unknown as TrainingJob;
  };
  const job = await watchJob(read, (line) => console.log(line));
  if (job.status !== 'SUCCEEDED') process.exitCode = 1;
}

const [command, ...args] = process.argv.slice(2);
let local: Endpoints | undefined;
try {
  local = await loadEndpoints();
  if (command === 'drop' && args[0] !== undefined) {
    await assertFile(args[0]);
    await drop(local, args[0], args[1]);
  }
  else if (command === 'redrive') await redrive(local, args[0]);
  else if (command === 'watch' && args[0] !== undefined) await watch(local, args[0]);
  else {
    console.error(USAGE);
    process.exitCode = 2;
  }
} catch (error) {
  console.error((local === undefined ? undefined : notRunningMessage(error, local.baseUrl)) ?? (error as Error).message);
  process.exitCode = 1;
}
