// Cold-start floor: a fresh process that requires onnxruntime, creates a session
// from the model file and runs it once. Nothing a real function could skip.
const ort = require('onnxruntime-node');

async function main() {
  const session = await ort.InferenceSession.create(process.argv[2], {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
  const row = [5.1, 3.5, 1.4, 0.2];
  const feeds = {};
  ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].forEach((name, i) => {
    feeds[name] = new ort.Tensor('float32', Float32Array.of(row[i]), [1, 1]);
  });
  const out = await session.run(feeds);
  if (out.label.data[0] !== 0n) throw new Error('unexpected prediction');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
