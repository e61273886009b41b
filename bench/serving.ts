/**
 * Serving overhead: on the same model and inputs, in one run,
 * (a) raw `session.run` in process, (b) the predict handler invoked in process
 * with an API Gateway event, (c) HTTP through the local gateway.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { servingSessionOptions } from '../src/inference/onnx-session.js';
import { SAMPLE_MODELS } from '../local/seed.js';
import { record, table, verdict } from './lib/record.js';
import { startBenchPlatform, withQuietStdout, type BenchPlatform } from './lib/platform.js';
import { summarize, timeEach, type Summary } from './lib/stats.js';
import { instrumentSessionRun } from './lib/session-timer.js';

interface Case {
  readonly label: string;
  readonly model: string;
  readonly file: string;
  /** v2 inputs: name, shape, values. */
  readonly inputs: readonly { name: string; shape: number[]; data: number[] }[];
  readonly iterations: number;
}

const deterministic = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(i * 12.9898 + seed) * 1000) / 1000);

const CASES: readonly Case[] = [
  {
    label: 'iris (tiny tabular), batch 1',
    model: 'iris',
    file: 'models/iris.onnx',
    inputs: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name, i) => ({ name, shape: [1, 1], data: [[5.1, 3.5, 1.4, 0.2][i]!] })),
    iterations: 3000,
  },
  {
    label: 'sensor_cnn (≥ 1 ms compute), batch 1',
    model: 'sensor_cnn',
    file: 'models/sensor_cnn.onnx',
    inputs: [{ name: 'signal', shape: [1, 1, 1024], data: deterministic(1024, 1) }],
    iterations: 1000,
  },
  {
    label: 'mlp (dense input), batch 64',
    model: 'mlp',
    file: 'models/mlp.onnx',
    inputs: [{ name: 'x', shape: [64, 256], data: deterministic(64 * 256, 2) }],
    iterations: 1000,
  },
];

/** Number of alternating (a)/(b) slices per case. */
const SLICES = 50;

interface Measured {
  readonly raw: Summary;
  readonly handler: Summary;
  /** Per call of (b): handler time minus the `session.run` inside it. */
  readonly handlerOverhead: Summary;
  readonly http: Summary;
}

const runTimer = instrumentSessionRun();

async function measure(platform: BenchPlatform, c: Case): Promise<Measured> {
  const session = await InferenceSession.create(c.file, servingSessionOptions(1769));
  const feeds = Object.fromEntries(c.inputs.map((i) => [i.name, new Tensor('float32', Float32Array.from(i.data), i.shape)]));
  const body = JSON.stringify({ inputs: c.inputs.map((i) => ({ ...i, datatype: 'FP32' })) });
  const path = `/v2/models/${c.model}/infer`;
  const predict = platform.predictCall('/v2/models/{name}/infer', { name: c.model }, body);
  const callHandler = async () => {
    const response = await predict();
    if (response.statusCode !== 200) throw new Error(`handler answered ${response.statusCode}: ${response.body}`);
  };
  const callHttp = async () => {
    const response = await platform.post(path, body);
    if (response.status !== 200) throw new Error(`gateway answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  };
  const warm = Math.min(200, c.iterations);
  await timeEach(warm, () => session.run(feeds));
  await withQuietStdout(() => timeEach(warm, callHandler));
  await timeEach(warm, callHttp);

  // (a) and (b) alternate in short slices so that drift on a shared machine hits
  // both alike; (c) runs afterwards, its own process and sockets kept out of (a)/(b).
  const raw: number[] = [];
  const handler: number[] = [];
  const overhead: number[] = [];
  const slice = Math.max(1, Math.floor(c.iterations / SLICES));
  for (let i = 0; i < SLICES; i++) {
    raw.push(...(await timeEach(slice, () => session.run(feeds))));
    await withQuietStdout(async () => {
      for (let j = 0; j < slice; j++) {
        const [total] = await timeEach(1, callHandler);
        handler.push(total!);
        overhead.push(total! - runTimer.last());
      }
    });
  }
  const http = await timeEach(c.iterations, callHttp);
  await session.release();
  return { raw: summarize(raw), handler: summarize(handler), handlerOverhead: summarize(overhead), http: summarize(http) };
}

const us = (v: number) => `${v.toFixed(0)} µs`;

/** Runs the serving benchmark and records it. */
export async function runServingBench(): Promise<void> {
  const models = SAMPLE_MODELS.filter((m) => CASES.some((c) => c.model === m.name));
  const platform = await startBenchPlatform(models);
  try {
    const rows: (string | number)[][] = [];
    const findings: string[] = [];
    for (const c of CASES) {
      const m = await measure(platform, c);
      rows.push([
        c.label,
        `${us(m.raw.p50)} / ${us(m.raw.p99)}`,
        `${us(m.handler.p50)} / ${us(m.handler.p99)}`,
        `${us(m.http.p50)} / ${us(m.http.p99)}`,
        (m.handler.p50 / m.raw.p50).toFixed(3),
        us(m.handler.p50 - m.raw.p50),
        `${us(m.handlerOverhead.p50)} / ${us(m.handlerOverhead.p90)}`,
        (m.http.p50 / m.raw.p50).toFixed(2),
      ]);
      if (c.model === 'iris') {
        const overhead = m.handler.p50 - m.raw.p50;
        findings.push(
          `- Tiny model: handler p50 − raw p50 = ${us(overhead)} (target ≤ 100 µs): ${verdict(overhead <= 100)}; overhead measured inside each call (handler − its session.run) p50 = ${us(m.handlerOverhead.p50)}`,
        );
      }
      if (c.model === 'sensor_cnn') {
        const ratio = m.handler.p50 / m.raw.p50;
        const inner = (m.raw.p50 + m.handlerOverhead.p50) / m.raw.p50;
        findings.push(
          `- ≥ 1 ms model (raw p50 ${us(m.raw.p50)}): handler p50 = ${ratio.toFixed(3)} × raw (target ≤ 1.10): ${verdict(ratio <= 1.1)}; with the overhead measured inside each call, (raw p50 + overhead p50) / raw p50 = ${inner.toFixed(3)}`,
        );
      }
      console.error(`measured ${c.label}`);
    }
    const body = [
      'Baseline (a): raw `session.run` in process on pre-built tensors, same session options as the handler (1 intra-op thread for 1,769 MB, spinning off).',
      '(b): the predict handler (`functions/predict/handler.ts`, Powertools Logger/Metrics on, tracing off) invoked in process with an API Gateway event carrying the JSON body — JSON parse, validation, alias resolution (cached), conversion, run, JSON response.',
      '(c): HTTP POST through the local gateway to the predict function in its own process.',
      'After warm-up, (a) and (b) alternate in 50 slices; (c) runs after them. p50 / p99 over all samples.',
      '"Overhead in call": for each (b) call, its time minus the time of the `session.run` inside it, so the noise of the model compute cancels.',
      '',
      table(['case', '(a) raw', '(b) handler', '(c) HTTP', 'b/a p50', 'b−a p50', '(b) overhead in call p50 / p90', 'c/a p50'], rows),
      '',
      ...findings,
    ].join('\n');
    console.log(body);
    await record('Serving overhead', 'npm run bench -- serving', body);
  } finally {
    await platform.stop();
  }
}
