import { build } from 'esbuild';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionBuildOptions } from '../../topology/bundling.js';

/** A bundled function, as the CDK stack ships it. */
export interface Bundle {
  readonly file: string;
  readonly bytes: number;
}

/** Bundles a handler entry with the stack's esbuild settings (`topology/bundling.ts`). */
export async function bundleFunction(entry: string): Promise<Bundle> {
  const outdir = await mkdtemp(join(tmpdir(), 'bundle-'));
  const file = join(outdir, 'index.js');
  await build(functionBuildOptions(entry, file));
  return { file, bytes: (await stat(file)).size };
}
