/**
 * Puts iris records on the local cloud's scoring stream (`npm start` must be running), then
 * prints the micro-batches the stream function wrote under `predictions/stream/iris/`.
 *
 *   npx tsx examples/stream-producer.ts [records]      (1–500, default 10; every 5th is a virginica)
 *
 * The endpoints come from `.local-cloud/endpoints.json` (LOCAL_CLOUD_DIR to change it).
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createKinesisClient } from '../src/aws/clients.js';

/** Says what went wrong, without a stack trace, and exits with 1. */
function fail(message: string): never {
  console.error(`stream-producer: ${message}`);
  process.exit(1);
}

// One PutRecords call takes 1 to 500 records.
const count = Number(process.argv[2] ?? 10);
if (!Number.isInteger(count) || count < 1 || count > 500) fail(`the record count must be an integer from 1 to 500, got '${process.argv[2]}'`);

const stateDir = resolve(process.env['LOCAL_CLOUD_DIR'] ?? '.local-cloud');
const endpointsFile = join(stateDir, 'endpoints.json');
const { endpoints, resources } = JSON.parse(await readFile(endpointsFile, 'utf8').catch(() => fail(`no ${endpointsFile}: start the local cloud first (npm start), or set LOCAL_CLOUD_DIR to its state folder`))) as {
  endpoints: { kinesis: string; s3: string };
  resources: { bucketName: string; streams: { scoring: { name: string } } };
};
const sdk = (endpoint: string) => ({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
const kinesis = createKinesisClient(sdk(endpoints.kinesis));
const s3 = new S3Client({ ...sdk(endpoints.s3), forcePathStyle: true });

const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const VIRGINICA = { sepal_length: 7.7, sepal_width: 2.6, petal_length: 6.9, petal_width: 2.3 };
const records = Array.from({ length: count }, (_, i) => ({
  PartitionKey: `card-${i % 3}`,
  Data: Buffer.from(JSON.stringify({ id: `tx-${i}`, features: i % 5 === 4 ? VIRGINICA : SETOSA })),
}));
const put = await kinesis
  .send(new PutRecordsCommand({ StreamName: resources.streams.scoring.name, Records: records }))
  .catch((error: Error) => fail(`putting records on ${resources.streams.scoring.name} at ${endpoints.kinesis} failed: ${error.message} (is npm start still running?)`));
console.log(`put ${count} records (${put.FailedRecordCount ?? 0} failed) on ${resources.streams.scoring.name}`);

// The stream function writes one object per batch; wait until every record is in one.
const prefix = 'predictions/stream/iris/';
let shown = false;
for (let attempt = 0; attempt < 50 && !shown; attempt++) {
  await new Promise((done) => setTimeout(done, 200));
  const listed = (await s3.send(new ListObjectsV2Command({ Bucket: resources.bucketName, Prefix: prefix }))).Contents ?? [];
  const bodies = await Promise.all(listed.map(async (o) => ({ key: o.Key!, body: await (await s3.send(new GetObjectCommand({ Bucket: resources.bucketName, Key: o.Key! }))).Body!.transformToString() })));
  const mine = bodies.filter(({ body }) => put.Records!.some((r) => body.includes(`"sequenceNumber":"${r.SequenceNumber}"`)));
  const lines = mine.flatMap(({ body }) => body.trim().split('\n')).filter((line) => put.Records!.some((r) => line.includes(`"${r.SequenceNumber}"`)));
  if (lines.length < count) continue;
  for (const { key, body } of mine) {
    console.log(`\n${key}`);
    console.log(body.trim());
  }
  shown = true;
}
if (!shown) console.error(`\nthe records were put, but not all were under s3://${resources.bucketName}/${prefix} within 10 s: see .local-cloud/logs/stream.log`);
kinesis.destroy();
s3.destroy();
