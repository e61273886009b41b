/**
 * `npm run bench [-- <name> ...]`: runs the benchmarks (all by default) and
 * appends their results to BENCHMARKS.md.
 */
import { runColdStartBench } from './cold-start.js';
import { runFootprintBench } from './footprint.js';
import { runMemoryBench } from './memory.js';
import { runServingBench } from './serving.js';

const BENCHES: Record<string, () => Promise<void>> = {
  footprint: runFootprintBench,
  serving: runServingBench,
  'cold-start': runColdStartBench,
  memory: runMemoryBench,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHES)) {
  console.error(`== ${name}`);
  await BENCHES[name]!();
}
process.exit(0);
