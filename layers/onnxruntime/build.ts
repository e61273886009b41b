/**
 * Builds the AWS Lambda layer that provides `onnxruntime-node` to the inference functions.
 *
 * The npm package ships native binaries for darwin, win32 and linux (x64 and arm64), about 288 MB,
 * which is over Lambda's 250 MB unzipped limit for code plus layers. This script installs the exact
 * version the repository uses into `<outDir>/nodejs/node_modules` (the layout Lambda mounts at
 * `/opt/nodejs/node_modules`, which is on `NODE_PATH`), keeps only the `linux/<arch>` binaries,
 * drops files that are not needed at runtime, proves the result loads and runs a model in a
 * separate `node` process, then measures and zips it.
 *
 * Usage: `tsx layers/onnxruntime/build.ts [--arch x64|arm64] [--out dir] [--budget-mb 80]`
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** CPU architectures a Lambda function (and therefore this layer) can target. */
export type LayerArch = 'x64' | 'arm64';

/** Options for {@link buildOnnxRuntimeLayer}. */
export interface LayerBuildOptions {
  /** Target Lambda architecture. Defaults to `x64`. */
  arch?: LayerArch;
  /** Directory that receives `nodejs/node_modules`. Defaults to `layers/onnxruntime/dist/<arch>`. It is deleted first. */
  outDir?: string;
  /** Maximum unzipped size in bytes. Defaults to {@link DEFAULT_LAYER_BUDGET_BYTES}. */
  budgetBytes?: number;
}

/** Outcome of a successful {@link buildOnnxRuntimeLayer} run. */
export interface LayerBuildReport {
  arch: LayerArch;
  /** Absolute path of the layer directory (contains `nodejs/`). */
  outDir: string;
  /** Absolute path of the layer zip (`nodejs/` at its root), next to `outDir`. */
  zipPath: string;
  /** Sum of the sizes of all files under `outDir`. */
  unzippedBytes: number;
  /** Size of the zip file. */
  zippedBytes: number;
  /** Version of onnxruntime-node in the layer (same as the repository's installed one). */
  onnxruntimeVersion: string;
  /** Whether the layer was loaded and a model run from it, or skipped because the host cannot load its binaries. */
  proof: 'ran' | 'skipped (cross-arch)';
  /** Human-readable evidence for `proof`: the computed output and resolved path, or why it was skipped. */
  proofDetail: string;
}

/** Default unzipped size budget for the layer: 80 MB, leaving most of Lambda's 250 MB for function code. */
export const DEFAULT_LAYER_BUDGET_BYTES = 80 * 1024 * 1024;

/**
 * A tiny valid ONNX model: `c = Add(a, b)` with `a`, `b`, `c` float32 tensors of shape [3]
 * (IR version 7, opset 13). Produced once with Debian's `/usr/bin/python3` (onnx 1.12):
 *
 * ```python
 * import base64, onnx
 * from onnx import helper, TensorProto
 * a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [3])
 * b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [3])
 * c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [3])
 * graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["c"])], "add", [a, b], [c])
 * model = helper.make_model(graph, producer_name="layer-proof", opset_imports=[helper.make_opsetid("", 13)])
 * model.ir_version = 7
 * onnx.checker.check_model(model)
 * print(base64.b64encode(model.SerializeToString()).decode())
 * ```
 */
const PROOF_MODEL_BASE64 =
  'CAcSC2xheWVyLXByb29mOkgKDgoBYQoBYhIBYyIDQWRkEgNhZGRaDwoBYRIKCggIARIECgIIA1oPCgFiEgoKCAgBEgQKAggDYg8KAWMSCgoICAESBAoCCANCBAoAEA0=';
const PROOF_INPUT_A = [1, 2, 3];
const PROOF_INPUT_B = [10, 20, 30];
const PROOF_EXPECTED = [11, 22, 33];

/** Dependencies of onnxruntime-node used only by its postinstall script (`script/install.js`), never by `dist/`. */
const INSTALL_ONLY_DEPENDENCIES: readonly string[] = ['adm-zip', 'global-agent'];

const ONNXRUNTIME_PACKAGE = 'onnxruntime-node';
const NPM_INSTALL_TIMEOUT_MS = 5 * 60_000;
const PROOF_TIMEOUT_MS = 60_000;
const ZIP_TIMEOUT_MS = 2 * 60_000;
const MEGABYTE = 1024 * 1024;

const LAYER_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(LAYER_DIR, '..', '..');

interface PackageManifest {
  name?: string;
  version?: string;
  main?: string;
  dependencies?: Record<string, string>;
}

interface CommandResult {
  stdout: string;
  stderr: string;
}

interface CommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

interface ProofOutput {
  resolved: string;
  version: string;
  output: number[];
}

interface ProofResult {
  proof: LayerBuildReport['proof'];
  proofDetail: string;
}

/**
 * Builds the onnxruntime-node Lambda layer for one architecture, proves it runs a model (when the
 * host can load the target binaries), measures it and zips it.
 *
 * @param options - Target architecture, output directory and unzipped size budget.
 * @returns Sizes, paths, version and proof outcome of the built layer.
 * @throws If npm install fails, the linux binding is missing, the proof fails, or the layer is over budget.
 */
export async function buildOnnxRuntimeLayer(options: LayerBuildOptions = {}): Promise<LayerBuildReport> {
  const arch = options.arch ?? 'x64';
  const outDir = path.resolve(options.outDir ?? path.join(LAYER_DIR, 'dist', arch));
  const budgetBytes = options.budgetBytes ?? DEFAULT_LAYER_BUDGET_BYTES;
  const nodeModulesDir = path.join(outDir, 'nodejs', 'node_modules');
  const ortDir = path.join(nodeModulesDir, ONNXRUNTIME_PACKAGE);

  const onnxruntimeVersion = await readInstalledOnnxRuntimeVersion();
  await prepareOutDir(outDir);
  await writeLayerPackageJson(path.join(outDir, 'nodejs'), onnxruntimeVersion);
  await npmInstall(path.join(outDir, 'nodejs'));
  await pruneForeignBinaries(ortDir, arch);
  await assertLinuxBindingPresent(ortDir, arch);
  const runtimePackages = await pruneInstallOnlyDependencies(nodeModulesDir, ortDir);
  await pruneNonRuntimeFiles(nodeModulesDir, runtimePackages);
  const { proof, proofDetail } = await proveLayerRuns(nodeModulesDir, arch, onnxruntimeVersion);

  const unzippedBytes = await directorySize(outDir);
  assertWithinBudget(arch, unzippedBytes, budgetBytes);
  const zipPath = path.join(path.dirname(outDir), `onnxruntime-${arch}.zip`);
  const zippedBytes = await zipLayer(outDir, zipPath);

  return { arch, outDir, zipPath, unzippedBytes, zippedBytes, onnxruntimeVersion, proof, proofDetail };
}

/** Reads the onnxruntime-node version installed in the repository, which the layer pins exactly. */
async function readInstalledOnnxRuntimeVersion(): Promise<string> {
  const manifestPath = path.join(REPO_ROOT, 'node_modules', ONNXRUNTIME_PACKAGE, 'package.json');
  const manifest = await readManifest(manifestPath);
  if (manifest.version === undefined) {
    throw new Error(`No version in ${manifestPath}`);
  }
  return manifest.version;
}

async function readManifest(manifestPath: string): Promise<PackageManifest> {
  return JSON.parse(await readFile(manifestPath, 'utf8')) as PackageManifest;
}

/**
 * Empties `outDir`, refusing to delete anything that does not look like a previous layer build
 * (so `--out .` or `--out ~` cannot wipe a real directory).
 */
async function prepareOutDir(outDir: string): Promise<void> {
  if (existsSync(outDir)) {
    const entries = await readdir(outDir);
    const foreign = entries.filter((entry) => entry !== 'nodejs');
    if (foreign.length > 0) {
      throw new Error(
        `Refusing to clean ${outDir}: it contains ${foreign.slice(0, 5).join(', ')}, not only a previous layer's nodejs/`,
      );
    }
  }
  await rm(outDir, { recursive: true, force: true });
  await mkdir(path.join(outDir, 'nodejs'), { recursive: true });
}

async function writeLayerPackageJson(nodejsDir: string, version: string): Promise<void> {
  const manifest = {
    name: 'onnxruntime-lambda-layer',
    private: true,
    description: 'AWS Lambda layer content for onnxruntime-node (linux binaries only). Generated by layers/onnxruntime/build.ts.',
    dependencies: { [ONNXRUNTIME_PACKAGE]: version },
  };
  await writeFile(path.join(nodejsDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Installs the layer's dependencies from the registry, preferring the local npm cache. Scripts are
 * ignored (the CPU binaries ship in the package) and `ONNXRUNTIME_NODE_INSTALL=skip` is set as well,
 * matching the repository's `.npmrc`, so nothing tries to download CUDA binaries.
 */
async function npmInstall(nodejsDir: string): Promise<void> {
  const args = [
    'install',
    '--prefix',
    nodejsDir,
    '--omit=dev',
    '--no-audit',
    '--no-fund',
    '--ignore-scripts',
    '--prefer-offline',
  ];
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };
  await runCommand('npm', args, { cwd: nodejsDir, env, timeoutMs: NPM_INSTALL_TIMEOUT_MS });
}

/** Deletes every `bin/napi-v*\/<platform>/<arch>` directory except `linux/<arch>`, then empty platform folders. */
async function pruneForeignBinaries(ortDir: string, arch: LayerArch): Promise<void> {
  const binDir = path.join(ortDir, 'bin');
  for (const napiDir of await subdirectories(binDir)) {
    for (const platformDir of await subdirectories(napiDir)) {
      for (const archDir of await subdirectories(platformDir)) {
        const keep = path.basename(platformDir) === 'linux' && path.basename(archDir) === arch;
        if (!keep) {
          await rm(archDir, { recursive: true, force: true });
        }
      }
      if ((await readdir(platformDir)).length === 0) {
        await rm(platformDir, { recursive: true, force: true });
      }
    }
  }
}

/** Throws unless the native binding and the onnxruntime shared library for `linux/<arch>` are present. */
async function assertLinuxBindingPresent(ortDir: string, arch: LayerArch): Promise<void> {
  const bindingDir = path.join(ortDir, 'bin', 'napi-v6', 'linux', arch);
  const files = existsSync(bindingDir) ? await readdir(bindingDir) : [];
  const hasBinding = files.includes('onnxruntime_binding.node');
  const hasRuntime = files.some((file) => file.startsWith('libonnxruntime.so'));
  if (!hasBinding || !hasRuntime) {
    throw new Error(
      `linux/${arch} binaries missing in ${bindingDir}: expected onnxruntime_binding.node and libonnxruntime.so*, found [${files.join(', ')}]`,
    );
  }
}

/**
 * Removes packages only needed by onnxruntime-node's postinstall script (and their own dependencies),
 * after checking that nothing under `dist/` requires them.
 */
async function pruneInstallOnlyDependencies(nodeModulesDir: string, ortDir: string): Promise<Set<string>> {
  await assertNotRequiredAtRuntime(path.join(ortDir, 'dist'), INSTALL_ONLY_DEPENDENCIES);
  const keep = await runtimeClosure(nodeModulesDir, ONNXRUNTIME_PACKAGE, INSTALL_ONLY_DEPENDENCIES);
  for (const name of await installedPackageNames(nodeModulesDir)) {
    if (!keep.has(name)) {
      await rm(path.join(nodeModulesDir, name), { recursive: true, force: true });
    }
  }
  // `.bin` links and the hidden lockfile would point at / describe the removed packages.
  await rm(path.join(nodeModulesDir, '.bin'), { recursive: true, force: true });
  await rm(path.join(nodeModulesDir, '.package-lock.json'), { force: true });
  return keep;
}

/** Top-level package names in `node_modules`, including `@scope/name` ones. */
async function installedPackageNames(nodeModulesDir: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(nodeModulesDir)) {
    if (entry.startsWith('@')) {
      const scoped = await readdir(path.join(nodeModulesDir, entry));
      names.push(...scoped.map((name) => `${entry}/${name}`));
    } else if (!entry.startsWith('.')) {
      names.push(entry);
    }
  }
  return names;
}

async function assertNotRequiredAtRuntime(distDir: string, packages: readonly string[]): Promise<void> {
  for (const file of await listFiles(distDir)) {
    if (!file.endsWith('.js')) {
      continue;
    }
    const source = await readFile(file, 'utf8');
    const offender = packages.find((name) => source.includes(`require("${name}")`) || source.includes(`require('${name}')`));
    if (offender !== undefined) {
      throw new Error(`${file} requires ${offender} at runtime; it cannot be pruned from the layer`);
    }
  }
}

/** Names of the packages reachable from `root` through `dependencies`, skipping `excluded`. */
async function runtimeClosure(
  nodeModulesDir: string,
  root: string,
  excluded: readonly string[],
): Promise<Set<string>> {
  const reachable = new Set<string>();
  const pending = [root];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (reachable.has(name) || excluded.includes(name)) {
      continue;
    }
    reachable.add(name);
    const manifest = await readManifest(path.join(nodeModulesDir, name, 'package.json'));
    pending.push(...Object.keys(manifest.dependencies ?? {}));
  }
  return reachable;
}

/**
 * Deletes files the runtime never loads: type declarations, source maps, READMEs, TypeScript sources
 * under `lib/` (only when the package's `main` points elsewhere) and onnxruntime-node's install `script/`.
 * `package.json` files (e.g. `dist/cjs/package.json` with `"type": "commonjs"`) are always kept.
 */
async function pruneNonRuntimeFiles(nodeModulesDir: string, packageNames: ReadonlySet<string>): Promise<void> {
  for (const packageName of packageNames) {
    const packageDir = path.join(nodeModulesDir, packageName);
    const manifest = await readManifest(path.join(packageDir, 'package.json'));
    const main = path.normalize(manifest.main ?? 'index.js');
    if (!main.startsWith(`lib${path.sep}`)) {
      await rm(path.join(packageDir, 'lib'), { recursive: true, force: true });
    }
    if (packageName === ONNXRUNTIME_PACKAGE) {
      await rm(path.join(packageDir, 'script'), { recursive: true, force: true });
    }
    for (const file of await listFiles(packageDir)) {
      if (isNonRuntimeFile(path.basename(file))) {
        await rm(file, { force: true });
      }
    }
  }
}

function isNonRuntimeFile(fileName: string): boolean {
  return (
    fileName.endsWith('.d.ts') ||
    fileName.endsWith('.map') ||
    fileName.endsWith('.tsbuildinfo') ||
    /^readme(\.md)?$/i.test(fileName)
  );
}

/**
 * Loads onnxruntime-node from the layer in a fresh `node` process (empty temp cwd, minimal env,
 * `NODE_PATH` set as Lambda does), runs the embedded Add model and checks the output and that the
 * module resolved from the layer. Skipped when the host cannot load `linux/<arch>` binaries.
 */
async function proveLayerRuns(nodeModulesDir: string, arch: LayerArch, version: string): Promise<ProofResult> {
  const host = `${process.platform}/${process.arch}`;
  if (process.platform !== 'linux' || process.arch !== arch) {
    return {
      proof: 'skipped (cross-arch)',
      proofDetail: `host is ${host}, layer targets linux/${arch}: run-proof skipped; linux/${arch} binding files are present`,
    };
  }
  const output = await runProofProcess(nodeModulesDir);
  const layerRoot = await realpath(nodeModulesDir);
  if (!(await realpath(output.resolved)).startsWith(layerRoot + path.sep)) {
    throw new Error(`Proof resolved ${ONNXRUNTIME_PACKAGE} from ${output.resolved}, not from the layer at ${layerRoot}`);
  }
  if (output.version !== version || JSON.stringify(output.output) !== JSON.stringify(PROOF_EXPECTED)) {
    throw new Error(
      `Proof mismatch: got version ${output.version} output [${output.output.join(', ')}], expected ${version} [${PROOF_EXPECTED.join(', ')}]`,
    );
  }
  return {
    proof: 'ran',
    proofDetail: `Add([${PROOF_INPUT_A.join(', ')}], [${PROOF_INPUT_B.join(', ')}]) = [${output.output.join(', ')}] with ${ONNXRUNTIME_PACKAGE} ${output.version} loaded from ${output.resolved}`,
  };
}

/** CommonJS script run by the proof process; prints a {@link ProofOutput} as JSON. */
const PROOF_SCRIPT = `
const ort = require('onnxruntime-node');
(async () => {
  const model = Buffer.from(process.env.PROOF_MODEL_BASE64, 'base64');
  const session = await ort.InferenceSession.create(model);
  const a = new ort.Tensor('float32', Float32Array.from(${JSON.stringify(PROOF_INPUT_A)}), [3]);
  const b = new ort.Tensor('float32', Float32Array.from(${JSON.stringify(PROOF_INPUT_B)}), [3]);
  const result = await session.run({ a, b });
  await session.release();
  process.stdout.write(JSON.stringify({
    resolved: require.resolve('onnxruntime-node'),
    version: require('onnxruntime-node/package.json').version,
    output: Array.from(result.c.data),
  }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

async function runProofProcess(nodeModulesDir: string): Promise<ProofOutput> {
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'onnxruntime-layer-proof-'));
  try {
    const env = { PATH: process.env.PATH ?? '', NODE_PATH: nodeModulesDir, PROOF_MODEL_BASE64 };
    const { stdout } = await runCommand(process.execPath, ['-e', PROOF_SCRIPT], { cwd, env, timeoutMs: PROOF_TIMEOUT_MS });
    return parseProofOutput(stdout);
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

function parseProofOutput(stdout: string): ProofOutput {
  const parsed: unknown = JSON.parse(stdout);
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    'resolved' in parsed &&
    typeof parsed.resolved === 'string' &&
    'version' in parsed &&
    typeof parsed.version === 'string' &&
    'output' in parsed &&
    Array.isArray(parsed.output) &&
    parsed.output.every((value: unknown) => typeof value === 'number')
  ) {
    return { resolved: parsed.resolved, version: parsed.version, output: parsed.output as number[] };
  }
  throw new Error(`Unexpected proof output: ${stdout}`);
}

function assertWithinBudget(arch: LayerArch, unzippedBytes: number, budgetBytes: number): void {
  if (unzippedBytes > budgetBytes) {
    throw new Error(
      `onnxruntime layer (linux/${arch}) is ${formatMegabytes(unzippedBytes)} unzipped (${unzippedBytes} bytes), ` +
        `over the budget of ${formatMegabytes(budgetBytes)} (${budgetBytes} bytes)`,
    );
  }
}

/**
 * Zips the contents of `outDir` (so `nodejs/` is at the zip root) with the `zip` CLI and returns the
 * zip size. `-X` leaves out extra file attributes (uid/gid, extended timestamps).
 */
async function zipLayer(outDir: string, zipPath: string): Promise<number> {
  await rm(zipPath, { force: true });
  await runCommand('zip', ['-r', '-q', '-X', zipPath, 'nodejs'], { cwd: outDir, env: process.env, timeoutMs: ZIP_TIMEOUT_MS });
  return (await lstat(zipPath)).size;
}

/** Sum of the sizes of all regular files under `dir` (symlinks not followed). */
export async function directorySize(dir: string): Promise<number> {
  let total = 0;
  for (const file of await listFiles(dir)) {
    total += (await lstat(file)).size;
  }
  return total;
}

/** Absolute paths of all regular files under `dir`, recursively (symlinks are not followed). */
async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      files.push(...(await listFiles(entryPath)));
    } else if (entry.isFile()) {
      files.push(entryPath);
    }
  }
  return files;
}

async function subdirectories(dir: string): Promise<string[]> {
  if (!existsSync(dir)) {
    return [];
  }
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory()).map((entry) => path.join(dir, entry.name));
}

/** Runs a command without a shell; rejects with its exit status and stderr tail on failure. */
function runCommand(command: string, args: readonly string[], options: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, maxBuffer: 64 * MEGABYTE },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr });
          return;
        }
        const hint = error.code === 'ENOENT' ? ` (is ${command} installed and on PATH?)` : '';
        const tail = stderr.trim().split('\n').slice(-20).join('\n');
        reject(new Error(`${command} ${args[0] ?? ''} failed${hint}: ${error.message}\n${tail}`));
      },
    );
  });
}

function formatMegabytes(bytes: number): string {
  return `${(bytes / MEGABYTE).toFixed(1)} MB`;
}

function parseArch(value: string | undefined): LayerArch {
  if (value === undefined || value === 'x64' || value === 'arm64') {
    return value ?? 'x64';
  }
  throw new Error(`--arch must be x64 or arm64, got ${value}`);
}

function parseCliOptions(argv: readonly string[]): LayerBuildOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: { arch: { type: 'string' }, out: { type: 'string' }, 'budget-mb': { type: 'string' } },
    strict: true,
  });
  const budgetMb = values['budget-mb'] === undefined ? undefined : Number(values['budget-mb']);
  if (budgetMb !== undefined && !(budgetMb > 0)) {
    throw new Error(`--budget-mb must be a positive number, got ${values['budget-mb']}`);
  }
  return {
    arch: parseArch(values.arch),
    ...(values.out === undefined ? {} : { outDir: path.resolve(values.out) }),
    ...(budgetMb === undefined ? {} : { budgetBytes: budgetMb * MEGABYTE }),
  };
}

async function main(): Promise<void> {
  const options = parseCliOptions(process.argv.slice(2));
  const report = await buildOnnxRuntimeLayer(options);
  console.log(JSON.stringify(report, null, 2));
  const budget = formatMegabytes(options.budgetBytes ?? DEFAULT_LAYER_BUDGET_BYTES);
  console.log(
    `onnxruntime-node ${report.onnxruntimeVersion} layer (linux/${report.arch}): ` +
      `${formatMegabytes(report.unzippedBytes)} unzipped (budget ${budget}), ${formatMegabytes(report.zippedBytes)} zipped ` +
      `-> ${report.zipPath}; proof: ${report.proof}`,
  );
}

function isCliEntry(): boolean {
  const entry = process.argv[1];
  return entry !== undefined && import.meta.url === pathToFileURL(path.resolve(entry)).href;
}

if (isCliEntry()) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
