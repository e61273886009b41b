import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** A sample model registered on first start. */
export interface SeedModel {
  readonly name: string;
  readonly file: string;
  readonly description: string;
}

/** The sample models `npm start` serves (see the model cards in `models/`). */
export const SAMPLE_MODELS: readonly SeedModel[] = [
  { name: 'iris', file: 'models/iris.onnx', description: 'Iris species classifier (tabular, named features)' },
  { name: 'mlp', file: 'models/mlp.onnx', description: 'MLP 256-1024-1024-10 used by the benchmarks' },
  { name: 'sensor_cnn', file: 'models/sensor_cnn.onnx', description: '1D CNN over a 1024-sample sensor window (untrained, for benchmarks)' },
];

/** A JSON call against the local API. */
type Api = (method: string, path: string, body?: unknown, headers?: Readonly<Record<string, string>>) => Promise<{ status: number; body: Record<string, unknown> }>;

/** Calls the local API with the dev key. */
export function apiClient(baseUrl: string, apiKey: string): Api {
  return async (method, path, body, headers = {}) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'x-api-key': apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };
}

async function expectOk(call: Promise<{ status: number; body: Record<string, unknown> }>, what: string) {
  const result = await call;
  if (result.status >= 300) throw new Error(`${what} failed with ${result.status}: ${JSON.stringify(result.body)}`);
  return result.body;
}

/**
 * Registers a sample model through the public API, the way a user would: create
 * the model, upload the artifact through a presigned URL, register the version,
 * point `prod` at it. Each step is skipped when already done, so an interrupted
 * seed completes on the next start. Returns whether anything was registered.
 */
export async function seedModel(api: Api, model: SeedModel): Promise<boolean> {
  if ((await api('GET', `/models/${model.name}/aliases/prod`)).status === 200) return false;
  if ((await api('GET', `/models/${model.name}`)).status === 404) {
    await expectOk(api('POST', '/models', { name: model.name, description: model.description }), `creating model ${model.name}`);
  }
  const versions = await expectOk(api('GET', `/models/${model.name}/versions?limit=1`), 'listing versions');
  let version = (versions['versions'] as { version: number }[])[0]?.version;
  if (version === undefined) {
    const bytes = await readFile(model.file);
    const upload = await expectOk(api('POST', `/models/${model.name}/uploads`), 'requesting an upload URL');
    const put = await fetch(upload['uploadUrl'] as string, { method: 'PUT', body: bytes });
    if (!put.ok) throw new Error(`uploading ${model.file} failed with ${put.status}: ${await put.text()}`);
    const registered = await expectOk(
      api('POST', `/models/${model.name}/versions`, {
        artifactUri: upload['artifactUri'],
        sha256: createHash('sha256').update(bytes).digest('hex'),
        description: `sample model from ${model.file}`,
        tags: { source: 'sample' },
      }),
      `registering ${model.file}`,
    );
    version = registered['version'] as number;
  }
  await expectOk(api('PUT', `/models/${model.name}/aliases/prod`, { version, reason: 'sample model seeded by npm start' }, { 'if-match': '"0"' }), 'setting prod');
  return true;
}
