/**
 * Training: the platform's trainers (`src/ml/algorithms`) against scikit-learn 1.2 and
 * XGBoost 1.7 `hist` on the same rows, measured in the same run.
 *
 * `bench/training_baseline.py prepare` loads each data set and makes ONE seeded split (80/20,
 * stratified for classification), written as raw binary files; both sides train on exactly those
 * training rows and score exactly those test rows. Every measurement is a fresh process: ours
 * (`bench/lib/training-worker.ts`, bundled as a function would be) trains once per process, so its
 * peak RSS is its own; each 1M-row baseline is a Python process of its own too.
 *
 * `npm run bench -- training --quick` (or TRAINING_BENCH_QUICK=1) replaces the 1M-row set by a
 * 50k-row one, runs once, and records nothing: a check that everything runs.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { AlgorithmId } from '../src/ml/model.js';
import type { DatasetMeta, TrainingWorkerResult } from './lib/training-worker.js';
import { record, table, verdict } from './lib/record.js';
import { summarize } from './lib/stats.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = 'bench/training_baseline.py';
const MiB = 2 ** 20;
/** The bundled scikit-learn data sets compared on quality. */
const SMALL = ['iris', 'wine', 'breast_cancer', 'digits', 'diabetes'] as const;
/** Epochs of both MLPs on the large set (per-epoch speed: fit time ÷ epochs). */
const LARGE_MLP_EPOCHS = 3;
/** Targets (issue): wall-time ratios ours ÷ baseline at most these; quality |Δ| at most; peak RSS ÷ training matrix at most. */
const TARGET = { logisticVsSklearn: 1.5, gbdtVsHgb: 1.0, gbdtVsXgboost: 1.5, mlpVsSklearnPerEpoch: 1.0, quality: 0.01, rssVsMatrix: 2 } as const;

/** Our hyperparameters, each the counterpart of the baseline's (see training_baseline.py). */
const OURS: Readonly<Record<AlgorithmId, Record<string, unknown>>> = {
  // LogisticRegression(): C = 1 (l2 = 1/C), lbfgs, max_iter 100, tol 1e-4 (the defaults).
  logistic: { l2: 1, maxIterations: 100, tolerance: 1e-4 },
  // Ridge(alpha=1).
  linear: { l2: 1 },
  // MLP*(hidden_layer_sizes=(100,)): adam, learning_rate_init 1e-3, batch 200, alpha 1e-4, max_iter 200, tol 1e-4, n_iter_no_change 10, early_stopping=False.
  mlp: { hiddenLayers: [100], learningRate: 1e-3, batchSize: 200, l2: 1e-4, maxEpochs: 200, patience: 10, tolerance: 1e-4, earlyStopping: false },
  // HistGradientBoosting*(max_iter=100, learning_rate=0.1, max_leaf_nodes=31, max_depth=8, min_samples_leaf=20, l2_regularization=0, max_bins=255, early_stopping=False).
  gbdt: { maxIterations: 100, learningRate: 0.1, maxLeaves: 31, maxDepth: 8, minSamplesLeaf: 20, l2: 0, maxBins: 255, earlyStopping: false },
};
/** The scikit-learn model of the same family. */
const SKLEARN: Readonly<Record<AlgorithmId, string>> = { logistic: 'logistic', linear: 'ridge', mlp: 'mlp', gbdt: 'hgb' };
const SKLEARN_NAME: Readonly<Record<string, string>> = {
  logistic: 'LogisticRegression',
  ridge: 'Ridge',
  mlp: 'MLP',
  hgb: 'HistGradientBoosting',
  xgboost: 'XGBoost hist',
};

/** One line of `training_baseline.py fit`. */
interface BaselineResult {
  readonly model: string;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly iterations: number;
  readonly metrics: Readonly<Record<string, number>>;
  readonly maxRssBytes: number;
  readonly threads: number;
  readonly pools: readonly { readonly api: string; readonly threads: number }[];
}

/** Runs of one contender, summarised. */
interface Runs<T> {
  readonly runs: T[];
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly last: T;
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');
const signed = (n: number, digits = 4): string => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(digits)}`;
const mib = (bytes: number): string => fmt(bytes / MiB, 0);

function summary<T extends { seconds: number; cpuSeconds: number }>(runs: T[]): Runs<T> {
  return { runs, seconds: summarize(runs.map((r) => r.seconds)).p50, cpuSeconds: summarize(runs.map((r) => r.cpuSeconds)).p50, last: runs.at(-1)! };
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const child = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env, timeout: 1_800_000, maxBuffer: 16 << 20 });
  if (child.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (status ${child.status}, signal ${child.signal})`);
  return child.stdout;
}

function prepare(dataset: string, dir: string): DatasetMeta {
  const out = join(dir, dataset);
  run(PYTHON, [SCRIPT, 'prepare', '--dataset', dataset, '--out', out]);
  return JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as DatasetMeta;
}

/** Fits baselines in one Python process limited to `threads` threads (BLAS, OpenMP, XGBoost). */
function baselines(data: string, models: readonly string[], threads: number, mlpEpochs?: number): BaselineResult[] {
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const args = [SCRIPT, 'fit', '--data', data, '--models', models.join(','), '--threads', String(threads)];
  if (mlpEpochs !== undefined) args.push('--mlp-epochs', String(mlpEpochs));
  const results = run(PYTHON, args, env)
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as BaselineResult);
  for (const r of results) console.error(`  ${r.model} (${threads} thr) ${data}: ${fmt(r.seconds, 3)} s, ${r.iterations} it, ${JSON.stringify(r.metrics)}`);
  return results;
}

/** Trains one of ours in a fresh process. */
function ours(worker: string, data: string, algorithm: AlgorithmId, params: Record<string, unknown>): TrainingWorkerResult {
  const result = JSON.parse(run(process.execPath, ['--expose-gc', worker, data, algorithm, JSON.stringify(params)]).trim().split('\n').at(-1)!) as TrainingWorkerResult;
  console.error(
    `  ours ${algorithm} ${data}: ${fmt(result.seconds, 3)} s, ${result.iterations} it, ${JSON.stringify(result.metrics)}, peak RSS while training ${mib(result.trainingPeakRssBytes)} MiB`,
  );
  return result;
}

async function bundleWorker(dir: string): Promise<string> {
  const outfile = join(dir, 'training-worker.mjs');
  await build({
    entryPoints: ['bench/lib/training-worker.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return outfile;
}

/** The metric a quality row compares: accuracy (classification) or R² (regression). */
const mainMetric = (meta: DatasetMeta): string => (meta.task === 'classification' ? 'accuracy' : 'r2');

interface QualityRow {
  readonly meta: DatasetMeta;
  readonly algorithm: AlgorithmId;
  readonly ours: TrainingWorkerResult;
  readonly sklearn: BaselineResult;
  readonly xgboost?: BaselineResult;
  readonly note?: string;
}

function qualityTable(rows: readonly QualityRow[]): { text: string; missed: string[] } {
  const missed: string[] = [];
  const lines = rows.map(({ meta, algorithm, ours: o, sklearn, xgboost, note }) => {
    const metric = mainMetric(meta);
    const delta = o.metrics[metric]! - sklearn.metrics[metric]!;
    const met = Math.abs(delta) <= TARGET.quality;
    if (!met) missed.push(`${meta.name} ${algorithm}: ${signed(delta)}`);
    const binary = meta.classes === 2;
    return [
      `${meta.name} (${meta.trainRows}/${meta.testRows} × ${meta.cols}${meta.task === 'classification' ? `, ${meta.classes} classes` : ''})`,
      `${algorithm} vs ${SKLEARN_NAME[sklearn.model]}${note ? ` (${note})` : ''}`,
      metric === 'r2' ? 'R²' : 'accuracy',
      fmt(o.metrics[metric]!, 4),
      fmt(sklearn.metrics[metric]!, 4),
      signed(delta),
      verdict(met),
      binary ? `${fmt(o.metrics.rocAuc!, 4)} / ${fmt(sklearn.metrics.rocAuc!, 4)}` : '',
      xgboost ? fmt(xgboost.metrics[metric]!, 4) : '',
      `${o.iterations} / ${sklearn.iterations}`,
    ];
  });
  const text = table(['data set (train/test rows × features)', 'algorithm', 'metric', 'ours', 'scikit-learn', 'Δ', `|Δ| ≤ ${TARGET.quality}`, 'ROC-AUC ours / sklearn', 'XGBoost (info)', 'iterations ours / sklearn'], lines);
  return { text, missed };
}

/** Measures, prints and records. */
export async function runTrainingBench(): Promise<void> {
  const quick = process.argv.includes('--quick') || process.env.TRAINING_BENCH_QUICK === '1';
  const largeName = quick ? 'classification_50k' : 'classification_1m';
  const repeats = quick ? 1 : 3;
  const cores = cpus().length;
  const threadCounts = [...new Set([cores, 1])];
  const started = performance.now();
  const loadBefore = loadavg();
  const dir = await mkdtemp(join(tmpdir(), 'training-bench-'));
  try {
    const worker = await bundleWorker(dir);

    // Quality on the bundled data sets: every algorithm once, the baselines in one single-threaded process.
    const quality: QualityRow[] = [];
    for (const name of SMALL) {
      console.error(`${name}…`);
      const meta = prepare(name, dir);
      const data = join(dir, name);
      const algorithms: AlgorithmId[] = meta.task === 'classification' ? ['logistic', 'mlp', 'gbdt'] : ['linear', 'mlp', 'gbdt'];
      const base = baselines(data, [...algorithms.map((a) => SKLEARN[a]), 'xgboost'], 1);
      const byModel = new Map(base.map((b) => [b.model, b]));
      for (const algorithm of algorithms) {
        quality.push({
          meta,
          algorithm,
          ours: ours(worker, data, algorithm, OURS[algorithm]),
          sklearn: byModel.get(SKLEARN[algorithm])!,
          ...(algorithm === 'gbdt' ? { xgboost: byModel.get('xgboost')! } : {}),
        });
      }
    }

    // Speed and memory on the large set: each contender in a process of its own, the repeats interleaved.
    console.error(`${largeName}…`);
    const meta = prepare(largeName, dir);
    const data = join(dir, largeName);
    const largeAlgorithms = ['logistic', 'gbdt', 'mlp'] as const;
    const largeParams = (algorithm: AlgorithmId) => (algorithm === 'mlp' ? { ...OURS.mlp, maxEpochs: LARGE_MLP_EPOCHS } : OURS[algorithm]);
    const baselineModels = ['logistic', 'hgb', 'xgboost', 'mlp'] as const;
    const ourRuns = new Map<string, TrainingWorkerResult[]>(largeAlgorithms.map((a) => [a, []]));
    const baseRuns = new Map<string, BaselineResult[]>();
    for (let r = 0; r < repeats; r++) {
      console.error(`  round ${r + 1} of ${repeats}`);
      for (const algorithm of largeAlgorithms) ourRuns.get(algorithm)!.push(ours(worker, data, algorithm, largeParams(algorithm)));
      for (const threads of threadCounts) {
        for (const model of baselineModels) {
          const key = `${model}/${threads}`;
          const [result] = baselines(data, [model], threads, LARGE_MLP_EPOCHS);
          baseRuns.set(key, [...(baseRuns.get(key) ?? []), result!]);
        }
      }
    }
    const our = (a: AlgorithmId) => summary(ourRuns.get(a)!);
    const base = (model: string, threads: number) => summary(baseRuns.get(`${model}/${threads}`)!);
    const loadAfter = loadavg();

    for (const algorithm of largeAlgorithms) {
      quality.push({
        meta,
        algorithm,
        ours: our(algorithm).last,
        sklearn: base(SKLEARN[algorithm], cores).last,
        ...(algorithm === 'gbdt' ? { xgboost: base('xgboost', cores).last } : {}),
        ...(algorithm === 'mlp' ? { note: `${LARGE_MLP_EPOCHS} epochs` } : {}),
      });
    }
    const { text: qualityText, missed: qualityMissed } = qualityTable(quality);

    // Speed: per contender; MLP per epoch.
    const perIteration = (algorithm: string) => (algorithm === 'mlp' ? LARGE_MLP_EPOCHS : 1);
    const speedRows: (string | number)[][] = [];
    const ratios = new Map<string, number>();
    for (const algorithm of largeAlgorithms) {
      const o = our(algorithm);
      const unit = perIteration(algorithm);
      const contenders: { label: string; key: string; runs: Runs<{ seconds: number; cpuSeconds: number; iterations: number; metrics: Readonly<Record<string, number>> }>; rss: number }[] = [
        { label: `**ours: ${algorithm}**`, key: `ours/${algorithm}`, runs: o, rss: Math.max(...o.runs.map((x) => x.processPeakRssBytes)) },
      ];
      const models = algorithm === 'gbdt' ? ['hgb', 'xgboost'] : [SKLEARN[algorithm]];
      for (const model of models) {
        for (const threads of threadCounts) {
          const b = base(model, threads);
          contenders.push({ label: `${SKLEARN_NAME[model]}, ${threads} thread${threads > 1 ? 's' : ''}`, key: `${model}/${threads}`, runs: b, rss: Math.max(...b.runs.map((x) => x.maxRssBytes)) });
        }
      }
      for (const c of contenders) {
        const ratio = o.seconds / c.runs.seconds;
        ratios.set(c.key, ratio);
        speedRows.push([
          c.label,
          fmt(c.runs.seconds / unit, 3),
          fmt(c.runs.cpuSeconds / c.runs.seconds, 2),
          c.runs.last.iterations,
          fmt((c.runs.seconds / c.runs.last.iterations) * 1000, 1),
          c.key.startsWith('ours/') ? '—' : `${fmt(ratio)}×`,
          mib(c.rss),
          fmt(c.runs.last.metrics.accuracy!, 4),
        ]);
      }
    }
    const speedText = table(
      ['contender', `fit wall s (median of ${repeats}; MLP: per epoch)`, 'CPU ÷ wall', 'iterations', 'ms per iteration', 'ours ÷ this (wall)', 'process peak RSS MiB', 'test accuracy'],
      speedRows,
    );
    const check = (label: string, key: string, target: number) => {
      const ratio = ratios.get(key)!;
      return `${label} ${fmt(ratio)}× (target ≤ ${target}×): ${verdict(ratio <= target)}`;
    };
    const multi = cores;
    const speedChecks = [
      `- logistic vs LogisticRegression: ${check(`${multi} threads`, `logistic/${multi}`, TARGET.logisticVsSklearn)}; ${check('1 thread', 'logistic/1', TARGET.logisticVsSklearn)}`,
      `- gbdt vs HistGradientBoosting: ${check(`${multi} threads`, `hgb/${multi}`, TARGET.gbdtVsHgb)}; ${check('1 thread', 'hgb/1', TARGET.gbdtVsHgb)}`,
      `- gbdt vs XGBoost hist: ${check(`${multi} threads`, `xgboost/${multi}`, TARGET.gbdtVsXgboost)}; ${check('1 thread', 'xgboost/1', TARGET.gbdtVsXgboost)}`,
      `- mlp vs MLPClassifier, per epoch: ${check(`${multi} threads`, `mlp/${multi}`, TARGET.mlpVsSklearnPerEpoch)}; ${check('1 thread', 'mlp/1', TARGET.mlpVsSklearnPerEpoch)}`,
    ];

    // Memory of our training processes on the large set.
    const memoryRows = largeAlgorithms.map((algorithm) => {
      const o = our(algorithm);
      const matrix = o.last.matrixBytes;
      const peak = Math.max(...o.runs.map((x) => x.trainingPeakRssBytes));
      const sklearnRss = Math.max(...base(SKLEARN[algorithm], 1).runs.map((x) => x.maxRssBytes));
      const runtime = summarize(o.runs.map((x) => x.startRssBytes)).p50;
      return [
        algorithm,
        `${mib(matrix)} (${o.last.trainRows} × ${o.last.cols} float32)`,
        mib(runtime),
        mib(Math.max(...o.runs.map((x) => x.rssBeforeTrainBytes))),
        mib(peak),
        mib(peak - Math.max(...o.runs.map((x) => x.rssBeforeTrainBytes))),
        `${fmt(peak / matrix)}×`,
        verdict(peak / matrix <= TARGET.rssVsMatrix),
        `${fmt((peak - runtime) / matrix)}×`,
        mib(Math.max(...o.runs.map((x) => x.processPeakRssBytes))),
        mib(sklearnRss),
      ];
    });
    const peakReset = [...ourRuns.values()].flat().every((r) => r.peakReset);
    const memoryText = table(
      [
        'algorithm',
        'training matrix MiB',
        'Node runtime RSS MiB (process start)',
        'RSS at start of training MiB',
        'peak RSS while training MiB',
        'added by training MiB',
        'peak ÷ matrix',
        `target ≤ ${TARGET.rssVsMatrix}×`,
        '(peak − runtime) ÷ matrix (info)',
        'whole process peak MiB (loading + preprocessing + training)',
        'scikit-learn process peak MiB (1 thread, for reference)',
      ],
      memoryRows,
    );

    const pools = base('hgb', cores).last.pools.map((p) => `${p.api} ${p.threads}`).join(', ');
    const body = [
      ...(quick ? [`**Quick run** (${largeName}, one repeat): not a measurement, nothing recorded.`, ''] : []),
      `Baselines: scikit-learn 1.2.1 and XGBoost 1.7.4 (Debian python3), ${PYTHON}. Data (\`bench/training_baseline.py prepare\`): the scikit-learn bundled sets and ` +
        `\`make_classification(n_samples=${largeName === 'classification_1m' ? '1_000_000' : '50_000'}, n_features=20, n_informative=10, random_state=0)\`; ONE split per set, ` +
        '`train_test_split(test_size=0.2, random_state=0, stratify=y)` (not stratified for diabetes), written as float32 features + index files, so both sides train on the same ' +
        'rows and score the same test rows. No validation split anywhere (our trainers get an empty validation set; baselines have early stopping off), so no early stopping.',
      '',
      'Settings, ours ↔ baseline (fit wall time = the `train` / `fit()` call only; loading, preprocessing and scaling are outside it):',
      '- logistic (`{ l2: 1, maxIterations: 100, tolerance: 1e-4 }`, standardised by `features.ts`) ↔ `StandardScaler` + `LogisticRegression()` (lbfgs, C = 1, max_iter 100, tol 1e-4).',
      '- linear (`{ l2: 1 }`, standardised) ↔ `StandardScaler` + `Ridge(alpha=1)`.',
      `- mlp (\`{ hiddenLayers: [100], learningRate: 1e-3, batchSize: 200, l2: 1e-4, maxEpochs: 200, patience: 10, tolerance: 1e-4, earlyStopping: false }\`, standardised) ↔ \`StandardScaler\` + \`MLPClassifier/MLPRegressor(hidden_layer_sizes=(100,))\` (adam, same defaults, early_stopping=False, random_state=0; the regressor in a \`TransformedTargetRegressor\` with a \`StandardScaler\`, since ours trains regression on standardised targets); on ${largeName} both run exactly ${LARGE_MLP_EPOCHS} epochs (max_iter / maxEpochs) and the time is divided by ${LARGE_MLP_EPOCHS}.`,
      '- gbdt (`{ maxIterations: 100, learningRate: 0.1, maxLeaves: 31, maxDepth: 8, minSamplesLeaf: 20, l2: 0, maxBins: 255, earlyStopping: false }`, raw features) ↔ ' +
        '`HistGradientBoostingClassifier/Regressor(max_iter=100, learning_rate=0.1, max_leaf_nodes=31, max_depth=8, min_samples_leaf=20, l2_regularization=0, max_bins=255, early_stopping=False)` and ' +
        "`XGBClassifier/XGBRegressor(tree_method='hist', n_estimators=100, learning_rate=0.1, grow_policy='lossguide', max_leaves=31, max_depth=8, max_bin=255, reg_lambda=0, base_score=training mean / class-1 rate)` " +
        '(XGBoost keeps min_child_weight = 1 in place of a minimum of 20 rows per leaf). All three grow 31-leaf trees best-first, one per class per round.',
      `- Threads: our trainers run on one thread. Baselines run twice: with ${cores} threads (the default here: ${pools}; XGBoost n_jobs=${cores}) and with 1 (OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=1, threadpoolctl, n_jobs=1). ` +
        'The quality runs on the small sets use 1 thread (libgomp spin-waits make 2-thread HistGradientBoosting take seconds on tiny data when the machine is busy; the results do not depend on threads).',
      `- Machine load average (1 min) before / after: ${fmt(loadBefore[0]!)} / ${fmt(loadAfter[0]!)} on ${cores} cores (a shared machine: other work may have run meanwhile).`,
      '',
      `### Quality (test split; target |Δ| ≤ ${TARGET.quality} against scikit-learn's same family)`,
      '',
      qualityText,
      '',
      `${qualityMissed.length === 0 ? 'Every quality target met.' : `Quality target missed: ${qualityMissed.join('; ')}.`} On the small sets one test row is worth 1/30 (iris) … 1/360 (digits) of accuracy, so |Δ| ≤ 0.01 there means the same predictions on (almost) every row.`,
      '',
      `### Speed on ${largeName} (${meta.trainRows} training rows × ${meta.cols} features, binary)`,
      '',
      speedText,
      '',
      ...speedChecks,
      '',
      '### Memory of our training process',
      '',
      memoryText,
      '',
      peakReset
        ? 'Peak RSS while training: the worker frees the loaded data and preprocessing intermediates (raw matrix, one Float64Array per column), collects garbage, resets the peak-RSS mark (`/proc/self/clear_refs`) and trains; it holds the Node runtime, the training matrix and targets, and the trainer\'s working memory. The whole-process peak includes loading the columns as the pipeline does.'
        : 'The peak-RSS mark could not be reset here: the "while training" column is the whole-process peak.',
      '',
      `Took ${fmt((performance.now() - started) / 1000, 0)} s.`,
    ].join('\n');
    console.log(body);
    if (!quick) await record('Training vs scikit-learn and XGBoost', 'npm run bench -- training', body);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
