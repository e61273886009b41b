import { build } from 'esbuild';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUNCTION_BUNDLING } from '../../topology/bundling.js';

/** A bundled function, as the CDK stack ships it. */
export interface Bundle {
  readonly file: string;
  readonly bytes: number;
}

/** Bundles a handler entry with the stack's esbuild settings (`topology/bundling.ts`). */
export async function bundleFunction(entry: string): Promise<Bundle> {
  const outdir = await mkdtemp(join(tmpdir(), 'bundle-'));
  const file = join(outdir, 'index.js');
  await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: FUNCTION_BUNDLING.format,
    target: FUNCTION_BUNDLING.target,
    minify: FUNCTION_BUNDLING.minify,
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    external: [...FUNCTION_BUNDLING.externalModules],
    define: FUNCTION_BUNDLING.define,
    banner: { js: FUNCTION_BUNDLING.banner },
    logLevel: 'warning',
  });
  return { file, bytes: (await stat(file)).size };
}
