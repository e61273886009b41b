/**
 * `npm run build:kernels`: assembles the WebAssembly kernels (`*.wat` in this
 * folder) and writes their generated modules (`*.wasm.generated.ts`), which
 * are checked in. Run it after editing a `.wat` file; a test fails while a
 * generated module is stale.
 */
import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { generateKernels } from './kernel-assembly.js';

for (const { path, text } of await generateKernels()) {
  await writeFile(path, text);
  console.log(`wrote ${relative(process.cwd(), path)}`);
}
