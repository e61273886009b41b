/**
 * `npm run build:layer`: builds the platform's Lambda layers (`layers/layer-builder.ts`) from
 * their descriptions (`layers/layers.ts`).
 *
 * Usage: `tsx layers/cli.ts [onnxruntime|duckdb ...] [--arch x64|arm64] [--out dir] [--budget-mb N]`
 * (no layer named: every layer; `--out` needs exactly one).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { LayerId } from '../topology/spec.js';
import { assertArch, buildLayer, formatMegabytes, MEGABYTE, type LayerBuildOptions } from './layer-builder.js';
import { LAYERS } from './layers.js';

interface CliOptions {
  readonly layers: readonly string[];
  readonly build: LayerBuildOptions;
}

function parseCliOptions(argv: readonly string[]): CliOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { arch: { type: 'string' }, out: { type: 'string' }, 'budget-mb': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const arch = values.arch ?? 'x64';
  assertArch(arch);
  const budgetMb = values['budget-mb'] === undefined ? undefined : Number(values['budget-mb']);
  if (budgetMb !== undefined && !(budgetMb > 0)) {
    throw new Error(`--budget-mb must be a positive number, got ${values['budget-mb']}`);
  }
  if (values.out !== undefined && positionals.length !== 1) {
    throw new Error(`--out needs exactly one layer, got ${positionals.length === 0 ? 'none (every layer)' : positionals.join(', ')}`);
  }
  return {
    layers: positionals,
    build: {
      arch,
      ...(values.out === undefined ? {} : { outDir: path.resolve(values.out) }),
      ...(budgetMb === undefined ? {} : { budgetBytes: budgetMb * MEGABYTE }),
    },
  };
}

async function main(): Promise<void> {
  const options = parseCliOptions(process.argv.slice(2));
  const known = Object.keys(LAYERS);
  const unknown = options.layers.filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    throw new Error(`unknown layer(s) ${unknown.join(', ')}; choose from ${known.join(', ')}`);
  }
  const ids = (options.layers.length > 0 ? options.layers : known) as LayerId[];
  for (const id of ids) {
    const report = await buildLayer(LAYERS[id], options.build);
    console.log(JSON.stringify(report, null, 2));
    console.log(
      `${report.packageName} ${report.version} layer (linux/${report.arch}): ` +
        `${formatMegabytes(report.unzippedBytes)} unzipped (budget ${formatMegabytes(report.budgetBytes)}), ` +
        `${formatMegabytes(report.zippedBytes)} zipped in ${(report.durationMs / 1000).toFixed(1)} s -> ${report.zipPath}; proof: ${report.proof}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
