/**
 * A local "Lambda container": a child process that loads one handler module
 * (the same file Lambda runs) and invokes it for each message from the local cloud.
 */
import type { Context } from 'aws-lambda';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ENTRY_ENV, serializeError, type HostMessage, type InvokeMessage } from './function-protocol.js';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const send = (message: HostMessage) => process.send?.(message);

function contextFor(message: InvokeMessage): Context {
  const name = process.env['AWS_LAMBDA_FUNCTION_NAME'] ?? 'local';
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env['AWS_REGION'] ?? 'us-east-1'}:000000000000:function:${name}`,
    memoryLimitInMB: process.env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'] ?? '128',
    awsRequestId: message.id,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `local/${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, message.deadlineMs - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function main(): Promise<void> {
  const entry = process.env[ENTRY_ENV];
  let handler: Handler;
  try {
    if (entry === undefined) throw new Error(`${ENTRY_ENV} is not set`);
    const file = resolve(entry);
    // A bundle is CommonJS and is required, as Lambda's Node.js runtime loads it; sources are imported (tsx).
    const module = (file.endsWith('.js') ? createRequire(file)(file) : await import(pathToFileURL(file).href)) as { handler?: Handler };
    if (typeof module.handler !== 'function') throw new Error(`${entry} does not export a handler`);
    handler = module.handler;
  } catch (error) {
    send({ type: 'init-error', error: serializeError(error) });
    process.exitCode = 1;
    process.disconnect?.();
    return;
  }
  process.on('message', (message: InvokeMessage) => {
    handler(message.event, contextFor(message)).then(
      (result) => send({ type: 'result', id: message.id, ok: true, result }),
      (error: unknown) => send({ type: 'result', id: message.id, ok: false, error: serializeError(error) }),
    );
  });
  // The local cloud went away: so does this container.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

void main();
