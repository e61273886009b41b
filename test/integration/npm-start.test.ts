/**
 * `npm start` as a user runs it: SIGINT or SIGTERM sent to the npm process alone (not to its
 * process group, as a terminal's Ctrl-C does) stops the whole local cloud, function containers
 * included; a second start on ports already taken says which port and what to do. Each run is
 * its own process group, so the test can tell whether anything of it is left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const started: ChildProcess[] = [];

/** Starts `npm start` in a process group of its own; collects its output, whole once `exited` resolves. */
function npmStart(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn('npm', ['start'], { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'close', not 'exit': it comes once the output pipes are drained too, so `output` is whole.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Whether any process of the group led by `pid` is still alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `condition` every 200 ms until it holds or `timeoutMs` has passed; resolves with its last value. */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  return condition();
}

/** Holds a loopback port; resolves with the server. */
function hold(port: number): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

afterEach(() => {
  // Whatever a failed test left behind: only the groups this file started.
  for (const child of started.splice(0)) if (child.pid !== undefined && groupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL');
});

describe('npm start', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('stops everything it started on %s sent to the npm process', async (signal) => {
    // Prepare
    const run = npmStart({ PORT: '0', LOCAL_CLOUD_DIR: await mkdtemp(join(tmpdir(), 'npm-start-')) });
    expect(await waitFor(() => run.output().includes('Press Ctrl-C'), 240_000)).toBe(true);

    // Act
    run.child.kill(signal);
    const code = await run.exited;

    // Assess: the group (npm, tsx, the cloud, every function container) is gone.
    expect(await waitFor(() => !groupAlive(run.child.pid!), 30_000)).toBe(true);
    expect(run.output()).toContain(`[local-cloud] ${signal}: stopping ...`);
    expect(run.output()).toContain('[local-cloud] stopped');
    expect(code).toBe(0);
  }, 300_000);

  it('names a port that is already taken and says what to do, with no stack trace', async () => {
    // Prepare: another process holds the DynamoDB emulator's port (the gateway's + 1).
    const probe = await hold(0);
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const taken = await hold(port + 1);

    // Act
    const run = npmStart({ PORT: String(port), LOCAL_CLOUD_DIR: await mkdtemp(join(tmpdir(), 'npm-start-busy-')) });
    const code = await run.exited;
    await new Promise((resolve) => taken.close(resolve));

    // Assess
    expect(code).toBe(1);
    expect(run.output()).toContain(`port ${port + 1} (DynamoDB emulator) is already in use`);
    expect(run.output()).toContain('PORT=<port> npm start');
    expect(run.output()).not.toMatch(/^\s+at /m);
  }, 120_000);
});
