/**
 * A restart of the local cloud strands no dataset version: local-aws-sqs keeps messages in memory,
 * so the notification of a file whose ingestion was waiting for a retry is gone; the next start
 * announces its source again from the version item, and the version finishes. A drop of the same
 * bytes as an unfinished version is no duplicate: it ingests that version.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import { DOCUMENT_TRANSLATION } from '../../src/aws/clients.js';
import { DatasetStore } from '../../src/lake/dataset-store.js';
import type { DatasetVersion, SourceObject } from '../../src/lake/types.js';
import { RegistryTable } from '../../src/storage/table.js';
import { lakeApi } from '../support/lake-api.js';

const CSV = 'x,y\n1,2\n3,4\n';

/** The dataset store of a running local cloud, as its functions see it. */
function datasetStoreOf(cloud: LocalCloud): { datasets: DatasetStore; destroy: () => void } {
  const client = new DynamoDBClient({ region: LOCAL_REGION, endpoint: cloud.endpoints.dynamodb, credentials: LOCAL_CREDENTIALS });
  return { datasets: new DatasetStore(new RegistryTable(DynamoDBDocumentClient.from(client, DOCUMENT_TRANSLATION), cloud.resources.tableName)), destroy: () => client.destroy() };
}

/**
 * Makes version `version` of dataset 'rec' an ingestion of `source` (an object in the lake) whose
 * attempt failed and whose message is lost: the definition changes (so the same bytes make a new
 * version), then the version is claimed and its attempt recorded as failed.
 */
async function strandedVersion(cloud: LocalCloud, source: SourceObject, version: number): Promise<void> {
  const lake = lakeApi(cloud);
  const definition = await lake.request('PUT', '/datasets/rec', { description: `definition for version ${version}` });
  lake.s3.destroy();
  const store = datasetStoreOf(cloud);
  try {
    const claim = await store.datasets.claimSource('rec', source, 60_000, Number(definition.body['revision']));
    expect(claim).toMatchObject({ kind: 'claimed', version });
    await store.datasets.recordAttemptFailure('rec', source, version, 'attempt 1 failed: the previous run stopped');
  } finally {
    store.destroy();
  }
}

async function versionOf(cloud: LocalCloud, version: number, timeoutMs: number): Promise<DatasetVersion> {
  const lake = lakeApi(cloud);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const found = (await lake.request<DatasetVersion>('GET', `/datasets/rec/versions/${version}`)).body;
      if (found.status === 'READY' || found.status === 'FAILED' || Date.now() > deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    lake.s3.destroy();
  }
}

describe('local cloud restart with an unfinished dataset version', () => {
  it('re-queues the ingestion of a RETRYING version at start; a later drop of the bytes of a RETRYING version ingests it', async () => {
    // Prepare: version 1 READY; version 2, of the same object, RETRYING with its message lost.
    const stateDir = await mkdtemp(join(tmpdir(), 'ingest-recovery-'));
    const first = await startLocalCloud({ stateDir, port: 0 });
    let source: SourceObject;
    try {
      const lake = lakeApi(first);
      const eTag = await lake.drop('raw/rec/data.csv', CSV);
      const [v1] = await lake.finishedVersions('rec');
      lake.s3.destroy();
      expect(v1).toMatchObject({ status: 'READY', source: { key: 'raw/rec/data.csv', eTag } });
      // The same object, announced by a delivery the queue lost (its own sequencer).
      source = { ...(v1 as DatasetVersion).source, sequencer: 'lost-delivery' };
      await strandedVersion(first, source, 2);
    } finally {
      await first.stop();
    }

    // Act: restart
    const lines: string[] = [];
    const second = await startLocalCloud({ stateDir, port: 0, log: (line) => lines.push(line) });
    try {
      const v2 = await versionOf(second, 2, 60_000);

      // Assess
      expect(lines).toContain('re-queued the ingestion of 1 dataset version(s) the previous run left unfinished: rec v2');
      expect(v2).toMatchObject({ status: 'READY', rowsAccepted: 2, attempts: 2 });

      // Act: version 3 RETRYING with its message lost, then the same bytes dropped again
      await strandedVersion(second, { ...source, sequencer: 'another-lost-delivery' }, 3);
      const lake = lakeApi(second);
      await lake.drop('raw/rec/again.csv', CSV);
      lake.s3.destroy();
      const v3 = await versionOf(second, 3, 60_000);

      // Assess: the drop ingested version 3 and is recorded on it, as a duplicate drop of its bytes
      expect(v3).toMatchObject({ status: 'READY', rowsAccepted: 2, duplicateDrops: 1, lastDuplicateDrop: { source: { key: 'raw/rec/again.csv' } } });
    } finally {
      await second.stop();
    }
  }, 240_000);
});
