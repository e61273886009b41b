/**
 * A hosted model container: what Triton Inference Server's SageMaker server serves, on a
 * loopback port — `GET /ping` (200 once the model is ready, as in ping mode `ready`) and
 * `POST /invocations` (OIP v2 JSON or binary bodies, answered in kind), the model chosen as
 * `docker/sagemaker/serve` chooses it and run with onnxruntime on CPU. Errors are Triton's:
 * `{"error": "..."}` with 400 (invalid argument) or 500; any other path is a bare 400.
 *
 * Started by the emulator (`model-container.ts`) with an IPC channel: it reports `ready` with
 * its port, or `failed` with why the model does not load, and exits when the emulator goes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MODEL_DIR_ENV, type ContainerMessage } from './container-protocol.js';
import { DEFAULT_MODEL_NAME_ENV, findTritonModel } from './model-repository.js';
import { OnnxModel } from './onnx-model.js';
import { decodeInferRequest, encodeInferResponse, TritonError } from './oip-codec.js';

const send = (message: ContainerMessage) => process.send?.(message);

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function answerError(response: ServerResponse, error: unknown): void {
  const status = error instanceof TritonError ? error.status : 500;
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (error as Error).message }));
}

async function invocations(model: OnnxModel, request: IncomingMessage, response: ServerResponse): Promise<void> {
  try {
    const decoded = decodeInferRequest(await readBody(request), request.headers['content-type']);
    const outputs = await model.infer(decoded);
    const answer = encodeInferResponse(model, decoded.id, outputs);
    response.writeHead(200, { 'content-type': answer.contentType }).end(answer.body);
  } catch (error) {
    answerError(response, error);
  }
}

async function main(): Promise<void> {
  let model: OnnxModel;
  try {
    const repository = process.env[MODEL_DIR_ENV];
    if (repository === undefined) throw new Error(`${MODEL_DIR_ENV} is not set`);
    model = await OnnxModel.load(await findTritonModel(repository, process.env[DEFAULT_MODEL_NAME_ENV]));
  } catch (error) {
    send({ type: 'failed', reason: (error as Error).message });
    process.disconnect?.();
    return;
  }
  const server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    if (path === '/ping') {
      if (request.method !== 'GET') response.writeHead(405, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Method Not Allowed' }));
      else response.writeHead(200).end();
    } else if (path === '/invocations' && request.method === 'POST') {
      void invocations(model, request, response);
    } else {
      response.writeHead(400).end();
    }
  });
  server.listen(0, '127.0.0.1', () => send({ type: 'ready', port: (server.address() as AddressInfo).port }));
  console.log(`Triton (emulated) serving model '${model.name}' version ${model.version}`);
  // The emulator went away: so does this container.
  process.on('disconnect', () => process.exit(0));
}

void main();
