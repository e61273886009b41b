/**
 * Helpers for tests that drive the lake through the local cloud: drop objects into the local
 * S3, call the dataset API through the gateway, and wait (bounded, by polling) for versions.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { LocalCloud } from '../../local/cloud.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import type { DatasetVersion } from '../../src/lake/types.js';

/** A JSON reply from the gateway. */
export interface Reply<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** Lake helpers bound to one local cloud. */
export function lakeApi(cloud: LocalCloud) {
  const s3 = new S3Client({ region: LOCAL_REGION, endpoint: cloud.endpoints.s3, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
  const bucket = cloud.resources.bucketName;

  async function request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const response = await fetch(`${cloud.baseUrl}${path}`, {
      method,
      headers: { 'x-api-key': cloud.apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text === '' ? {} : JSON.parse(text)) as T };
  }

  /** Puts an object into the lake bucket; returns its ETag (unquoted). */
  async function drop(key: string, body: string | Uint8Array): Promise<string> {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    return (put.ETag ?? '').replaceAll('"', '');
  }

  /** Reads an object of the lake bucket as bytes. */
  async function read(key: string): Promise<Uint8Array> {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
  }

  /** The dataset's versions, newest first ([] while the dataset does not exist). */
  async function versions(dataset: string): Promise<DatasetVersion[]> {
    const reply = await request<{ versions?: DatasetVersion[] }>('GET', `/datasets/${encodeURIComponent(dataset)}/versions?limit=100`);
    return reply.status === 200 ? (reply.body.versions ?? []) : [];
  }

  /** Polls until `count` versions of the dataset are finished (READY or FAILED); fails after `timeoutMs`. */
  async function finishedVersions(dataset: string, count = 1, timeoutMs = 30_000): Promise<DatasetVersion[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await versions(dataset)).filter((v) => v.status === 'READY' || v.status === 'FAILED');
      if (found.length >= count) return found;
      if (Date.now() > deadline) throw new Error(`dataset '${dataset}' has ${found.length} finished versions after ${timeoutMs} ms; expected ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  return { s3, bucket, request, drop, read, versions, finishedVersions };
}
