/**
 * `npm run bench -- stream [--quick]`: stream scoring end to end on the local cloud (issue 14).
 * A producer puts iris records on the scoring stream (kinesalite) at a steady 1,000 records/s
 * for 30 s (100 records every 100 ms, PutRecords, over many partition keys and both shards); a
 * reader lists the micro-batches the stream function writes under `predictions/stream/iris/`
 * and takes, per record, the time from just before its PutRecords call to the moment its line
 * was seen in the lake. The named baseline, measured in the same run: the raw model call
 * (`session.run` of the same iris model in this process) on a batch of 100 rows and on one row.
 * `--quick` runs 5 s and records nothing.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createKinesisClient } from '../src/aws/clients.js';
import { startLocalCloud } from '../local/cloud.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/emulators.js';
import { SAMPLE_MODELS } from '../local/seed.js';
import { subsetTopology } from '../topology/spec.js';
import { topology as platformTopology } from '../topology/topology.js';
import { record, table } from './lib/record.js';
import { summarize, timeEach } from './lib/stats.js';

const RATE_PER_SECOND = 1_000;
const TICK_MS = 100;
const KEYS = 64;
const ROW = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

/** The raw model call: `session.run` of iris on `rows` rows, in microseconds per call. */
async function rawModelCall(rows: number): Promise<number[]> {
  const session = await ort.InferenceSession.create('models/iris.onnx');
  const feeds = Object.fromEntries(Object.entries(ROW).map(([name, value]) => [name, new ort.Tensor('float32', new Float32Array(rows).fill(value), [rows, 1])]));
  await timeEach(50, () => session.run(feeds));
  const samples = await timeEach(500, () => session.run(feeds));
  await session.release();
  return samples;
}

/** Runs the benchmark. */
export async function runStreamBench(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const seconds = quick ? 5 : 30;
  const topology = subsetTopology(platformTopology, ['control-plane', 'stream'], ['stream-failures']);
  const cloud = await startLocalCloud({ stateDir: await mkdtemp(join(tmpdir(), 'bench-stream-')), port: 0, topology, seed: SAMPLE_MODELS.filter((m) => m.name === 'iris') });
  const sdk = (endpoint: string) => ({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS });
  const kinesis = createKinesisClient(sdk(cloud.endpoints.kinesis));
  const s3 = new S3Client({ ...sdk(cloud.endpoints.s3), forcePathStyle: true });
  const streamName = cloud.resources.streams.scoring!.name;
  const bucket = cloud.resources.bucketName;
  try {
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const seenObjects = new Set<string>();
    let producing = true;
    const start = performance.now();
    let lastPut = start;

    const reader = (async () => {
      while (producing || latencies.length < sentAt.size) {
        const listed = (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'predictions/stream/iris/' }))).Contents ?? [];
        for (const object of listed.filter((o) => !seenObjects.has(o.Key!))) {
          seenObjects.add(object.Key!);
          const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }))).Body!.transformToString();
          const now = performance.now();
          for (const line of body.trim().split('\n')) {
            const sent = sentAt.get((JSON.parse(line) as { id: string }).id);
            if (sent !== undefined) latencies.push((now - sent) * 1000);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (!producing && performance.now() - lastPut > 30_000) break;
      }
    })();

    // Steady rate: a batch every tick, on schedule (a late tick does not shift the following ones).
    const perTick = (RATE_PER_SECOND * TICK_MS) / 1000;
    const ticks = (seconds * 1000) / TICK_MS;
    const puts: Promise<unknown>[] = [];
    for (let tick = 0; tick < ticks; tick++) {
      const due = start + tick * TICK_MS;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      const records = Array.from({ length: perTick }, (_, i) => {
        const id = `r${tick}-${i}`;
        return { id, entry: { PartitionKey: `key-${(tick * perTick + i) % KEYS}`, Data: Buffer.from(JSON.stringify({ id, features: ROW })) } };
      });
      const now = performance.now();
      for (const { id } of records) sentAt.set(id, now);
      lastPut = now;
      puts.push(kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: records.map((r) => r.entry) })));
    }
    await Promise.all(puts);
    const produced = (performance.now() - start) / 1000;
    producing = false;
    await reader;

    const [batch, single] = [await rawModelCall(100), await rawModelCall(1)];
    const e2e = summarize(latencies);
    const raw100 = summarize(batch);
    const raw1 = summarize(single);
    const ms = (micros: number) => (micros / 1000).toFixed(2);
    const body = [
      quick ? '**Quick run**: not a measurement, nothing recorded.\n' : '',
      `${sentAt.size} records put in ${produced.toFixed(1)} s (${(sentAt.size / produced).toFixed(0)} records/s offered), ${latencies.length} seen scored in the lake (${seenObjects.size} micro-batches). Batch size 100, two shards; the local event source polls an idle shard every 100 ms.`,
      '',
      table(
        ['measure', 'p50 (ms)', 'p99 (ms)', 'p50 / raw batch-100 call'],
        [
          ['PutRecords → scored line in the lake (end to end)', ms(e2e.p50), ms(e2e.p99), `${(e2e.p50 / raw100.p50).toFixed(0)}×`],
          ['raw model call, batch of 100 (`session.run`, baseline)', ms(raw100.p50), ms(raw100.p99), '1×'],
          ['raw model call, one row (`session.run`)', ms(raw1.p50), ms(raw1.p99), `${(raw1.p50 / raw100.p50).toFixed(2)}×`],
        ],
      ),
    ].join('\n');
    console.log(body);
    if (!quick) await record('Stream scoring: end-to-end latency at 1,000 records/s', 'npm run bench -- stream', body);
  } finally {
    kinesis.destroy();
    s3.destroy();
    await cloud.stop();
  }
}
