/**
 * `npm run bench -- async-inference [--quick]`: the latency async inference adds over a synchronous
 * call (issue 14), end to end on the local cloud through its gateway, for a small request (iris,
 * one row): synchronous `POST …/infer` (the baseline, in the same run) against submit with
 * `Prefer: respond-async` → poll `GET /v2/async/{id}` until the result is there, with the input
 * inline and uploaded (`POST /v2/async/uploads` → PUT → submit with `x-input-location`: the
 * submission pins the upload's ETag, the worker reads it with `If-Match`). Requests alternate,
 * after warm-up, so every path sees the same machine load.
 */
import { SAMPLE_MODELS } from '../local/seed.js';
import { record, table } from './lib/record.js';
import { startBenchPlatform } from './lib/platform.js';
import { summarize } from './lib/stats.js';

const IRIS = JSON.stringify({
  inputs: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name, i) => ({ name, datatype: 'FP32', shape: [1, 1], data: [[5.1, 3.5, 1.4, 0.2][i]] })),
});
/** Between status reads while a request is pending. */
const POLL_MS = 5;

export async function runAsyncInferenceBench(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rounds = quick ? 10 : 60;
  const platform = await startBenchPlatform(SAMPLE_MODELS.filter((model) => model.name === 'iris'));
  const { cloud } = platform;
  const call = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    fetch(`${cloud.baseUrl}${path}`, { method, headers: { 'x-api-key': cloud.apiKey, 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) });

  const sync = async () => {
    const response = await call('POST', '/v2/models/iris/infer', {}, IRIS);
    if (response.status !== 200) throw new Error(`sync infer answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  };
  const asyncRound = async (input: Record<string, string> = {}) => {
    const accepted = await call('POST', '/v2/models/iris/infer', { prefer: 'respond-async', ...input }, input['x-input-location'] === undefined ? IRIS : undefined);
    if (accepted.status !== 202) throw new Error(`async infer answered ${accepted.status}: ${await accepted.text()}`);
    const location = accepted.headers.get('location')!;
    await accepted.arrayBuffer();
    for (;;) {
      const body = (await (await call('GET', location)).json()) as { status: string; error?: string };
      if (body.status === 'succeeded') return;
      if (body.status !== 'queued' && body.status !== 'running') throw new Error(`async request ended ${body.status}: ${body.error ?? ''}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  const uploadedRound = async () => {
    const upload = (await (await call('POST', '/v2/async/uploads')).json()) as { uploadUrl: string; inputRef: string };
    const put = await fetch(upload.uploadUrl, { method: 'PUT', body: IRIS });
    if (put.status !== 200) throw new Error(`upload PUT answered ${put.status}`);
    await put.arrayBuffer();
    await asyncRound({ 'x-input-location': upload.inputRef });
  };
  const timed = async (fn: () => Promise<void>) => {
    const start = performance.now();
    await fn();
    return performance.now() - start;
  };

  try {
    // Warm-up: both functions loaded, the model in each container's cache.
    for (let i = 0; i < 3; i++) {
      await sync();
      await asyncRound();
      await uploadedRound();
    }
    const syncMs: number[] = [];
    const asyncMs: number[] = [];
    const uploadedMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      syncMs.push(await timed(sync));
      asyncMs.push(await timed(asyncRound));
      uploadedMs.push(await timed(uploadedRound));
    }
    const s = summarize(syncMs);
    const a = summarize(asyncMs);
    const u = summarize(uploadedMs);
    const body = [
      `Iris, one row, ${rounds} requests per path, alternating, through the local gateway over HTTP. Async: submit (202) →`,
      `status polled every ${POLL_MS} ms until \`succeeded\` (the result inline), the input inline or uploaded to a presigned URL`,
      '(the submission pins its ETag, the worker reads it with If-Match); the local SQS event source delivers the',
      'message to the async worker as Lambda would. Baseline: the synchronous infer call in the same run.',
      '',
      table(
        ['path', 'p50 ms', 'p90 ms', 'p99 ms', 'p50 ratio to sync'],
        [
          ['sync `POST …/infer` (baseline)', s.p50.toFixed(1), s.p90.toFixed(1), s.p99.toFixed(1), '1.00×'],
          ['async: submit → result available', a.p50.toFixed(1), a.p90.toFixed(1), a.p99.toFixed(1), `${(a.p50 / s.p50).toFixed(2)}×`],
          ['async, uploaded input: upload URL → PUT → submit (ETag pinned) → result', u.p50.toFixed(1), u.p90.toFixed(1), u.p99.toFixed(1), `${(u.p50 / s.p50).toFixed(2)}×`],
        ],
      ),
      '',
      `Added latency of async over sync at p50: **${(a.p50 - s.p50).toFixed(1)} ms** (inline input), **${(u.p50 - s.p50).toFixed(1)} ms** (uploaded input, the upload's two round trips included).`,
    ].join('\n');
    console.log(body);
    await record('Async inference: added latency over sync (iris)', `npm run bench -- async-inference${quick ? ' --quick' : ''}`, body);
  } finally {
    await platform.stop();
  }
}
