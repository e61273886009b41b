/**
 * `npm run lake` against a platform that is not running tells the user to start it, whatever
 * the command (one that calls the API, one that calls S3 directly), instead of a connection error.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function runLake(stateDir: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/lake-cli.ts', ...args], { env: { ...process.env, LOCAL_CLOUD_DIR: stateDir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run lake with the platform stopped', () => {
  it.each([
    ['watch', ['watch', 'iris-gbdt~20261203100000000-0a1b2c3d']],
    ['drop', ['drop', 'data/iris.csv']],
  ])('%s says to start it with npm start', async (_, args) => {
    // Prepare: what a platform that has since stopped left behind.
    const stateDir = await mkdtemp(join(tmpdir(), 'lake-cli-'));
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const endpoints = {
      baseUrl: url,
      apiKey: 'k',
      endpoints: { dynamodb: url, s3: url, sqs: url },
      resources: { bucketName: 'lake', tableName: 'registry', queues: {} },
    };
    await writeFile(join(stateDir, 'endpoints.json'), JSON.stringify(endpoints));

    // Act
    const result = await runLake(stateDir, args);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the local platform is not running (nothing answers at ${url}): start it with 'npm start'`);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});

describe('npm run lake -- drop of something that is not a file', () => {
  it.each([
    ['a missing file', '/nonexistent-lake-cli.csv', "no file '/nonexistent-lake-cli.csv'"],
    ['a directory', 'data', "'data' is a directory: drop one file at a time"],
  ])('%s: a clear message and exit code 1, before anything is uploaded', async (_, path, message) => {
    // Prepare: endpoints of a platform that is not running; the path is checked first.
    const stateDir = await mkdtemp(join(tmpdir(), 'lake-cli-'));
    const url = `http://127.0.0.1:${await closedPort()}`;
    await writeFile(join(stateDir, 'endpoints.json'), JSON.stringify({ baseUrl: url, apiKey: 'k', endpoints: { dynamodb: url, s3: url, sqs: url }, resources: { bucketName: 'lake', tableName: 'registry', queues: {} } }));

    // Act
    const result = await runLake(stateDir, ['drop', path]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
  }, 60_000);
});
