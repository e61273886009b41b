import { describe, expect, it } from 'vitest';
import { callDependency, isTransientAwsError } from '../aws/dependency-errors.js';
import {
  ConflictError,
  DependencyUnavailableError,
  InvalidRequestError,
  ModelRunError,
  ModelVersionUnavailableError,
  NotFoundError,
  type PlatformError,
  RevisionMismatchError,
  UnusableArtifactError,
} from '../errors.js';
import { MethodNotAllowedError } from './errors.js';
import { toErrorResponse } from './response.js';

const awsError = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('toErrorResponse', () => {
  it('keeps a typed 4xx with its message and the correlation id', () => {
    const { response, serverFault } = toErrorResponse(new NotFoundError("model 'x' not found"), 'c-1');
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toEqual({ error: "model 'x' not found", correlation_id: 'c-1' });
    expect(response.headers).toMatchObject({ 'x-correlation-id': 'c-1', 'content-type': 'application/json' });
    expect(serverFault).toBe(false);
  });

  it('turns throttling and 5xx from AWS into 503 with Retry-After', () => {
    for (const error of [awsError('ThrottlingException', 400), awsError('ProvisionedThroughputExceededException', 400), awsError('InternalError', 500)]) {
      const { response } = toErrorResponse(error, 'c');
      expect(response.statusCode).toBe(503);
      expect(response.headers?.['Retry-After']).toBe('1');
    }
  });

  it('hides the message and stack of unexpected errors', () => {
    const { response, serverFault } = toErrorResponse(new Error('secret detail at /var/task/index.js:1'), 'c');
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('secret');
    expect(response.body).not.toContain('/var/task');
    expect(JSON.parse(response.body).error).toBe('internal error');
    expect(serverFault).toBe(true);
  });

  it.each<[PlatformError, number, boolean]>([
    [new InvalidRequestError('bad shape'), 400, false],
    [new NotFoundError('no model'), 404, false],
    [new ConflictError('exists'), 409, false],
    [new RevisionMismatchError('at revision 3'), 412, false],
    [new UnusableArtifactError('not ONNX'), 422, false],
    [new DependencyUnavailableError('the model registry', 2), 503, true],
    [new ModelVersionUnavailableError('iris', 2, 'its artifact is missing'), 500, true],
    [new ModelRunError('iris', 2, 'its MyOp operator failed', new Error('x')), 500, true],
  ])('maps a domain %o to its status and shows its message', (error, status, serverFault) => {
    const mapped = toErrorResponse(error, 'c');
    expect([mapped.response.statusCode, JSON.parse(mapped.response.body).error, mapped.serverFault]).toEqual([status, error.message, serverFault]);
    expect(error.refusal).toBe(status < 500);
  });

  it('asks a caller to retry a dependency failure after the time it names', () => {
    expect(toErrorResponse(new DependencyUnavailableError('S3', 7), 'c').response.headers?.['Retry-After']).toBe('7');
  });

  it('keeps an HTTP-only error as it is, headers included', () => {
    const { response } = toErrorResponse(new MethodNotAllowedError('POST', '/models', ['GET', 'HEAD']), 'c');
    expect([response.statusCode, response.headers?.['Allow']]).toEqual([405, 'GET, HEAD']);
  });

  it('shows the reason of a version that cannot be served', () => {
    const { response } = toErrorResponse(new ModelVersionUnavailableError('iris', 2, 'artifact integrity check failed'), 'c');
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body).error).toBe("model 'iris' version 2 cannot be served: artifact integrity check failed");
  });
});

describe('isTransientAwsError / callDependency', () => {
  it('classifies throttling, 5xx, timeouts and connection failures as transient, client errors not', () => {
    expect(isTransientAwsError(awsError('SlowDown', 503))).toBe(true);
    expect(isTransientAwsError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientAwsError(awsError('TimeoutError'))).toBe(true);
    expect(isTransientAwsError(awsError('ValidationException', 400))).toBe(false);
    expect(isTransientAwsError('nope')).toBe(false);
  });

  it('wraps transient failures in a DependencyUnavailableError naming the dependency', async () => {
    await expect(callDependency('model registry', () => Promise.reject(awsError('ThrottlingException', 400)))).rejects.toThrowError(
      DependencyUnavailableError,
    );
    await expect(callDependency('model registry', () => Promise.reject(awsError('ThrottlingException', 400)))).rejects.toThrowError(
      /^model registry is temporarily unavailable/,
    );
    await expect(callDependency('x', () => Promise.reject(awsError('ValidationException', 400)))).rejects.toThrowError('ValidationException');
  });
});
