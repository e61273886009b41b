/**
 * Footprint: every function's bundle as the stack ships it, the layers (onnxruntime, duckdb), what
 * each function adds up to against Lambda's 250 MB for unzipped code plus layers, and the npm
 * install of onnxruntime-node the onnxruntime layer replaces.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LayerId } from '../topology/spec.js';
import { topology } from '../topology/topology.js';
import { buildLayer, directorySize, type LayerBuildReport } from '../layers/layer-builder.js';
import { LAYERS } from '../layers/layers.js';
import { bundleFunction } from './lib/bundle.js';
import { record, table, verdict } from './lib/record.js';

const KB = 1024;
const MB = 1024 * 1024;
/** Lambda's limit on function code plus all its layers, unzipped. */
const LAMBDA_UNZIPPED_LIMIT = 250 * MB;

/** Size targets of the benchmark (the layer builds enforce their own, looser budgets). */
const BUNDLE_TARGETS: Readonly<Record<string, number>> = { predict: 500 * KB };
const LAYER_TARGETS: Readonly<Record<LayerId, number>> = { onnxruntime: 60 * MB, duckdb: 80 * MB };

const kb = (bytes: number): string => `${(bytes / KB).toFixed(1)} KB`;
const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`;

/** Measures bundle and layer sizes and records them. */
export async function runFootprintBench(): Promise<void> {
  const bundles = new Map<string, number>();
  for (const spec of topology.functions) {
    bundles.set(spec.id, (await bundleFunction(spec.entry)).bytes);
  }
  const workDir = await mkdtemp(join(tmpdir(), 'layers-'));
  const layers = new Map<LayerId, LayerBuildReport>();
  try {
    for (const [id, layer] of Object.entries(LAYERS) as Array<[LayerId, (typeof LAYERS)[LayerId]]>) {
      layers.set(id, await buildLayer(layer, { arch: 'x64', outDir: join(workDir, id, 'x64') }));
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const npmInstall = await directorySize('node_modules/onnxruntime-node');
  const onnxruntime = layers.get('onnxruntime');

  const rows: string[][] = [];
  for (const [id, bytes] of bundles) {
    const target = BUNDLE_TARGETS[id];
    rows.push([`${id} bundle (minified)`, kb(bytes), target === undefined ? '—' : `≤ ${kb(target)}`, target === undefined ? '—' : verdict(bytes <= target)]);
  }
  for (const [id, report] of layers) {
    const target = LAYER_TARGETS[id];
    rows.push([`${id} layer x64, unzipped`, mb(report.unzippedBytes), `≤ ${mb(target)}`, verdict(report.unzippedBytes <= target)]);
    rows.push([`${id} layer x64, zipped`, mb(report.zippedBytes), '—', `built in ${(report.durationMs / 1000).toFixed(1)} s, proof ${report.proof}`]);
  }
  for (const spec of topology.functions) {
    const total = (bundles.get(spec.id) ?? 0) + spec.layers.reduce((sum, id) => sum + (layers.get(id)?.unzippedBytes ?? 0), 0);
    const parts = [`${spec.id} bundle`, ...spec.layers.map((id) => `${id} layer`)].join(' + ');
    rows.push([`${parts}, unzipped`, mb(total), `≤ ${mb(LAMBDA_UNZIPPED_LIMIT)} (Lambda)`, verdict(total <= LAMBDA_UNZIPPED_LIMIT)]);
  }
  if (onnxruntime !== undefined) {
    rows.push([
      'baseline: npm install onnxruntime-node',
      mb(npmInstall),
      '—',
      `onnxruntime layer = ${(onnxruntime.unzippedBytes / npmInstall).toFixed(3)} × baseline`,
    ]);
  }

  const body = [
    'Bundles: `topology/bundling.ts` settings (esbuild, minified CJS, AWS SDK bundled and tree-shaken, layer modules — onnxruntime-node, @duckdb/node-api — external).',
    'Layers: `layers/layer-builder.ts` for linux x64 (build time includes npm install from a warm cache, the proof and zip). Baseline: the npm install of onnxruntime-node (all platforms).',
    '',
    table(['artifact', 'size', 'target', 'verdict'], rows),
  ].join('\n');
  console.log(body);
  await record('Footprint', 'npm run bench -- footprint', body);
}
