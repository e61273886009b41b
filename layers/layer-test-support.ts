/** What the layer build tests share: the host's architecture, the expected proof, temporary folders. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import type { LayerArch } from './layer-builder.js';

/** npm install + zip of a layer of tens of MB: far above the repo's default per-test timeout. */
export const BUILD_TIMEOUT_MS = 180_000;

/** Build for the host's CPU so the run-proof can load the binaries; on a non-linux host it is skipped. */
export const HOST_ARCH: LayerArch = process.arch === 'arm64' ? 'arm64' : 'x64';
export const EXPECTED_PROOF = process.platform === 'linux' ? 'ran' : 'skipped (cross-arch)';

/** A temporary-folder maker whose folders are removed after the test file. */
export function temporaryFolders(prefix: string): () => Promise<string> {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}

/** A folder's entries, sorted. */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}
