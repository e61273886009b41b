/**
 * Footprint: the predict and control-plane bundles as the stack ships them, and
 * the onnxruntime layer, against the npm install of onnxruntime-node it replaces.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOnnxRuntimeLayer, directorySize } from '../layers/onnxruntime/build.js';
import { bundleFunction } from './lib/bundle.js';
import { record, table, verdict } from './lib/record.js';

const KB = 1024;
const MB = 1024 * 1024;

/** Measures bundle and layer sizes and records them. */
export async function runFootprintBench(): Promise<void> {
  const predict = await bundleFunction('functions/predict/handler.ts');
  const control = await bundleFunction('functions/control-plane/handler.ts');
  const layer = await buildOnnxRuntimeLayer({ arch: 'x64', outDir: join(await mkdtemp(join(tmpdir(), 'layer-')), 'x64') });
  const npmInstall = await directorySize('node_modules/onnxruntime-node');
  const body = [
    'Bundles: `infra/bundling.ts` settings (esbuild, minified CJS, AWS SDK bundled and tree-shaken, onnxruntime-node external).',
    'Layer: `layers/onnxruntime/build.ts` for linux x64. Baseline: the npm install of onnxruntime-node (all platforms).',
    '',
    table(
      ['artifact', 'size', 'target', 'verdict'],
      [
        ['predict bundle (minified)', `${(predict.bytes / KB).toFixed(1)} KB`, '≤ 500 KB', verdict(predict.bytes <= 500 * KB)],
        ['control-plane bundle (minified)', `${(control.bytes / KB).toFixed(1)} KB`, '—', '—'],
        ['onnxruntime layer x64, unzipped', `${(layer.unzippedBytes / MB).toFixed(1)} MB`, '≤ 60 MB', verdict(layer.unzippedBytes <= 60 * MB)],
        ['onnxruntime layer x64, zipped', `${(layer.zippedBytes / MB).toFixed(1)} MB`, '—', '—'],
        ['baseline: npm install onnxruntime-node', `${(npmInstall / MB).toFixed(1)} MB`, '—', `layer = ${(layer.unzippedBytes / npmInstall).toFixed(3)} × baseline`],
      ],
    ),
  ].join('\n');
  console.log(body);
  await record('Footprint', 'npm run bench -- footprint', body);
}
