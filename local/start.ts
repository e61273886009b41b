/**
 * `npm start`: the whole platform on this machine. Prints the base URL and the
 * dev API key, and writes them to `<state dir>/endpoints.json`.
 *
 * Settings: `PORT` (gateway port, default 3000; emulators use the next five),
 * `LOCAL_CLOUD_DIR` (state folder, default `.local-cloud`).
 *
 * SIGINT (Ctrl-C) and SIGTERM stop everything, function containers included, within
 * {@link STOP_DEADLINE_MS}; a port already taken is named, with what to do, and nothing starts.
 */
import { resolve } from 'node:path';
import { endpointsFile, startLocalCloud, type LocalCloud } from './cloud.js';
import { PortInUseError } from './ports.js';
import { SAMPLE_MODELS } from './seed.js';

/** Longest a stop may take (it takes about 2 s; more on a loaded machine): then the process exits anyway (its containers exit with it). */
const STOP_DEADLINE_MS = 10_000;

const port = Number(process.env['PORT'] ?? '3000');
if (!Number.isInteger(port) || port < 0 || port > 65531) {
  console.error(`PORT must be an integer between 0 and 65531, got '${process.env['PORT']}'`);
  process.exit(2);
}
const stateDir = resolve(process.env['LOCAL_CLOUD_DIR'] ?? '.local-cloud');
const log = (line: string) => console.log(`[local-cloud] ${line}`);

let cloud: LocalCloud | undefined;
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping ...`);
  setTimeout(() => {
    log(`still stopping after ${STOP_DEADLINE_MS / 1000} s: exiting now`);
    process.exit(1);
  }, STOP_DEADLINE_MS).unref();
  // Containers started so far exit with this process (they watch its IPC channel).
  await cloud?.stop();
  log('stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

log(`starting (state in ${stateDir}) ...`);
const started = Date.now();
try {
  cloud = await startLocalCloud({ stateDir, port, seed: SAMPLE_MODELS, log, watch: true });
} catch (error) {
  if (!(error instanceof PortInUseError)) throw error;
  console.error(`[local-cloud] cannot start: ${error.message}`);
  process.exit(1);
}

console.log(`
Serverless AI platform running locally (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)

  Base URL   ${cloud.baseUrl}
  API key    ${cloud.apiKey}
  Saved to   ${endpointsFile(stateDir)}
  Logs       ${resolve(stateDir, 'logs')}/<function>.log
  Emulators  DynamoDB ${cloud.endpoints.dynamodb}  S3 ${cloud.endpoints.s3}  SQS ${cloud.endpoints.sqs}  SageMaker ${cloud.endpoints.sagemaker}  Kinesis ${cloud.endpoints.kinesis}

Try a prediction:

  curl -s ${cloud.baseUrl}/v1/models/iris:predict \\
    -H 'x-api-key: ${cloud.apiKey}' -H 'content-type: application/json' \\
    -d '{"instances":[{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}]}'

Drop a file into the local lake (a dataset version appears in seconds):

  npm run lake -- drop data/iris.csv

Then train a model on it and watch the job (the README's Quickstart goes on to predict with it):

  curl -s ${cloud.baseUrl}/jobs -H 'x-api-key: ${cloud.apiKey}' -H 'content-type: application/json' \\
    -d '{"dataset":"iris","target":"species","task":"classification","modelName":"iris-gbdt","alias":"prod"}'
  npm run lake -- watch <the job's id>

A/B splits, canary rollouts that roll back by themselves, and shadow traffic: see the README's
"Rollouts and shadow traffic" (the rollout advancer runs here every 10 s).

Press Ctrl-C (or send SIGTERM to this process) to stop.
`);
