/**
 * Builds the platform's AWS Lambda layers (the command line is `layers/cli.ts`): each provides one
 * npm package with native binaries (onnxruntime-node, @duckdb/node-api) for one Lambda platform,
 * `linux/<arch>` with glibc.
 *
 * The machinery is shared; what differs per layer is a {@link LayerDescription} in
 * `layers/<id>/build.ts` (listed in `layers/layers.ts`). A build:
 *
 * 1. installs the exact version of the package the repository has installed into
 *    `<outDir>/nodejs/node_modules` (the layout Lambda mounts at `/opt/nodejs/node_modules`, which
 *    is on `NODE_PATH`), with npm told to pick `linux/<arch>/glibc` optional packages;
 * 2. deletes other platforms' binaries and checks that the `linux/<arch>` ones are there;
 * 3. deletes packages only install scripts use, and files the runtime never loads;
 * 4. proves the layer works: a fresh `node` process (empty temp cwd, minimal environment,
 *    `NODE_PATH` set as Lambda does) requires the package, runs the layer's proof, and reports
 *    every module it loaded, all of which must come from the layer (skipped when the host cannot
 *    load `linux/<arch>` binaries);
 * 5. measures the unzipped size, fails above the budget, and zips it (`nodejs/` at the root).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LayerId } from '../topology/spec.js';

/** CPU architectures a Lambda function (and therefore a layer) can target. */
export type LayerArch = 'x64' | 'arm64';

/** Bytes in a megabyte, as the budgets and reports count them (MiB). */
export const MEGABYTE = 1024 * 1024;

/** What one layer packages, how to trim it to one platform, and how to prove it works. */
export interface LayerDescription {
  /** The layer's id (`LayerId` in `topology/topology.ts`); names `layers/<id>/` and the zip `<id>-<arch>.zip`. */
  readonly id: LayerId;
  /** The npm package the layer provides, at the version installed in the repository. */
  readonly packageName: string;
  /** Unzipped size budget in bytes when the caller gives none. */
  readonly defaultBudgetBytes: number;
  /** Extra environment for `npm install` (scripts never run, whatever it says). */
  readonly installEnv?: Readonly<Record<string, string>>;
  /**
   * Packages only the install scripts use, pruned with their own dependencies after checking
   * that no `.js` file under `checkedDir` (relative to the package) requires them.
   *
   * @default - none
   */
  readonly installOnly?: { readonly packages: readonly string[]; readonly checkedDir: string };
  /**
   * Folders (relative to a package, by package name) the runtime never loads.
   *
   * @default - none beyond the generic rules (type declarations, source maps, READMEs, `lib/` when `main` is elsewhere)
   */
  readonly nonRuntimeDirs?: Readonly<Record<string, readonly string[]>>;
  /** Deletes the binaries of every platform but `linux/<arch>` from the installed `node_modules`. */
  pruneForeignBinaries(nodeModulesDir: string, arch: LayerArch): Promise<void>;
  /**
   * Files (relative to `node_modules`) that must exist for `linux/<arch>`; a final `*` matches
   * any file name starting with what precedes it (`libonnxruntime.so*`).
   */
  requiredFiles(arch: LayerArch): readonly string[];
  /**
   * Body of an async CommonJS function run by the proof process, whose cwd is an empty temp
   * directory; it may `require` the layer's modules and returns a JSON-serialisable result.
   */
  readonly proofSource: string;
  /** Checks the proof's result; returns a one-line account of it, or throws. */
  checkProof(result: unknown): string;
}

/** Options of {@link buildLayer}. */
export interface LayerBuildOptions {
  /** Target Lambda architecture. Defaults to `x64`. */
  arch?: LayerArch;
  /** Directory that receives `nodejs/node_modules`. Defaults to `layers/<id>/dist/<arch>`. It is deleted first. */
  outDir?: string;
  /** Maximum unzipped size in bytes. Defaults to the layer's `defaultBudgetBytes`. */
  budgetBytes?: number;
}

/** Outcome of a successful {@link buildLayer} run. */
export interface LayerBuildReport {
  layer: LayerId;
  packageName: string;
  /** Version of the package in the layer (the repository's installed one). */
  version: string;
  arch: LayerArch;
  /** Absolute path of the layer directory (contains `nodejs/`). */
  outDir: string;
  /** Absolute path of the layer zip (`nodejs/` at its root), next to `outDir`. */
  zipPath: string;
  /** Sum of the sizes of all files under `outDir`. */
  unzippedBytes: number;
  /** Size of the zip file. */
  zippedBytes: number;
  /** The budget `unzippedBytes` was checked against. */
  budgetBytes: number;
  /** Whether the layer was loaded and exercised, or skipped because the host cannot load its binaries. */
  proof: 'ran' | 'skipped (cross-arch)';
  /** Evidence for `proof`: what the proof computed and where the package resolved from, or why it was skipped. */
  proofDetail: string;
  /** Wall-clock time of the build, install and zip included. */
  durationMs: number;
}

const NPM_INSTALL_TIMEOUT_MS = 5 * 60_000;
const PROOF_TIMEOUT_MS = 60_000;
const ZIP_TIMEOUT_MS = 2 * 60_000;

const LAYERS_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(LAYERS_DIR, '..');

interface PackageManifest {
  name?: string;
  version?: string;
  main?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
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
  loaded: string[];
  result: unknown;
}

/**
 * Builds one layer for one architecture, proves it works (when the host can load the target
 * binaries), checks its size budget and zips it.
 *
 * @param layer - The layer's description.
 * @param options - Target architecture, output directory and unzipped size budget.
 * @returns Sizes, paths, version and proof outcome of the built layer.
 * @throws If npm install fails, a `linux/<arch>` binary is missing, the proof fails, or the layer is over budget.
 */
export async function buildLayer(layer: LayerDescription, options: LayerBuildOptions = {}): Promise<LayerBuildReport> {
  const started = performance.now();
  const arch = options.arch ?? 'x64';
  assertArch(arch);
  const outDir = path.resolve(options.outDir ?? path.join(LAYERS_DIR, layer.id, 'dist', arch));
  const budgetBytes = options.budgetBytes ?? layer.defaultBudgetBytes;
  if (!(budgetBytes > 0)) {
    throw new Error(`${layer.id} layer budget must be a positive number of bytes, got ${budgetBytes}`);
  }
  const nodejsDir = path.join(outDir, 'nodejs');
  const nodeModulesDir = path.join(nodejsDir, 'node_modules');

  const version = await readInstalledVersion(layer.packageName);
  await prepareOutDir(outDir);
  await writeLayerPackageJson(nodejsDir, layer, version);
  await npmInstall(nodejsDir, arch, layer.installEnv ?? {});
  await layer.pruneForeignBinaries(nodeModulesDir, arch);
  await assertRequiredFilesPresent(nodeModulesDir, layer, arch);
  const runtimePackages = await pruneInstallOnlyPackages(nodeModulesDir, layer);
  await pruneNonRuntimeFiles(nodeModulesDir, runtimePackages, layer.nonRuntimeDirs ?? {});
  const { proof, proofDetail } = await proveLayerRuns(nodeModulesDir, layer, arch, version);

  const unzippedBytes = await directorySize(outDir);
  if (unzippedBytes > budgetBytes) {
    throw new Error(
      `${layer.id} layer (linux/${arch}) is ${formatMegabytes(unzippedBytes)} unzipped (${unzippedBytes} bytes), ` +
        `over the budget of ${formatMegabytes(budgetBytes)} (${budgetBytes} bytes)`,
    );
  }
  const zipPath = path.join(path.dirname(outDir), `${layer.id}-${arch}.zip`);
  const zippedBytes = await zipLayer(outDir, zipPath);

  const durationMs = Math.round(performance.now() - started);
  return { layer: layer.id, packageName: layer.packageName, version, arch, outDir, zipPath, unzippedBytes, zippedBytes, budgetBytes, proof, proofDetail, durationMs };
}

/** The source files a layer's content follows from besides its package version: the shared builder and the layer's description. */
export function layerSourceFiles(id: LayerId): string[] {
  return [fileURLToPath(import.meta.url), path.join(LAYERS_DIR, id, 'build.ts')];
}

/** The version of `packageName` installed in the repository, which the layer pins exactly. */
export async function readInstalledVersion(packageName: string): Promise<string> {
  const manifestPath = path.join(REPO_ROOT, 'node_modules', packageName, 'package.json');
  if (!existsSync(manifestPath)) {
    throw new Error(`${packageName} is not installed (${manifestPath} is missing): run npm ci first`);
  }
  const manifest = await readManifest(manifestPath);
  if (manifest.version === undefined) {
    throw new Error(`No version in ${manifestPath}`);
  }
  return manifest.version;
}

async function readManifest(manifestPath: string): Promise<PackageManifest> {
  return JSON.parse(await readFile(manifestPath, 'utf8')) as PackageManifest;
}

/** Throws unless `arch` is a {@link LayerArch}. */
export function assertArch(arch: string): asserts arch is LayerArch {
  if (arch !== 'x64' && arch !== 'arm64') {
    throw new Error(`arch must be x64 or arm64, got ${arch}`);
  }
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

async function writeLayerPackageJson(nodejsDir: string, layer: LayerDescription, version: string): Promise<void> {
  const manifest = {
    name: `${layer.id}-lambda-layer`,
    private: true,
    description: `AWS Lambda layer content for ${layer.packageName} (linux binaries only). Generated by layers/layer-builder.ts.`,
    dependencies: { [layer.packageName]: version },
  };
  await writeFile(path.join(nodejsDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Installs the layer's package from the registry, preferring the local npm cache, with scripts
 * ignored. `--os/--cpu/--libc` make npm choose the optional packages (platform bindings) of the
 * Lambda platform rather than the host's.
 */
async function npmInstall(nodejsDir: string, arch: LayerArch, installEnv: Readonly<Record<string, string>>): Promise<void> {
  const args = [
    'install',
    '--prefix',
    nodejsDir,
    '--omit=dev',
    '--no-audit',
    '--no-fund',
    '--ignore-scripts',
    '--prefer-offline',
    '--os=linux',
    `--cpu=${arch}`,
    '--libc=glibc',
  ];
  await runCommand('npm', args, { cwd: nodejsDir, env: { ...process.env, ...installEnv }, timeoutMs: NPM_INSTALL_TIMEOUT_MS });
}

async function assertRequiredFilesPresent(nodeModulesDir: string, layer: LayerDescription, arch: LayerArch): Promise<void> {
  const missing: string[] = [];
  for (const required of layer.requiredFiles(arch)) {
    const dir = path.join(nodeModulesDir, path.dirname(required));
    const name = path.basename(required);
    const files = existsSync(dir) ? await readdir(dir) : [];
    const present = name.endsWith('*') ? files.some((file) => file.startsWith(name.slice(0, -1))) : files.includes(name);
    if (!present) {
      missing.push(`${required} (found in ${path.dirname(required)}: [${files.join(', ')}])`);
    }
  }
  if (missing.length > 0) {
    throw new Error(`${layer.id} layer: linux/${arch} binaries missing: ${missing.join('; ')}`);
  }
}

/**
 * Removes packages that are not reachable from the layer's package (through dependencies and
 * installed optional dependencies), and the install-only ones with what only they need, after
 * checking that the runtime code never requires them. Returns the packages kept.
 */
async function pruneInstallOnlyPackages(nodeModulesDir: string, layer: LayerDescription): Promise<Set<string>> {
  const installOnly = layer.installOnly?.packages ?? [];
  if (layer.installOnly !== undefined) {
    const checkedDir = path.join(nodeModulesDir, layer.packageName, layer.installOnly.checkedDir);
    await assertNotRequiredAtRuntime(checkedDir, installOnly);
  }
  const keep = await runtimeClosure(nodeModulesDir, layer.packageName, installOnly);
  for (const name of await installedPackageNames(nodeModulesDir)) {
    if (!keep.has(name)) {
      await rm(path.join(nodeModulesDir, name), { recursive: true, force: true });
    }
  }
  for (const scope of (await readdir(nodeModulesDir)).filter((entry) => entry.startsWith('@'))) {
    if ((await readdir(path.join(nodeModulesDir, scope))).length === 0) {
      await rm(path.join(nodeModulesDir, scope), { recursive: true, force: true });
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

async function assertNotRequiredAtRuntime(dir: string, packages: readonly string[]): Promise<void> {
  for (const file of await listFiles(dir)) {
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

/**
 * Names of the packages reachable from `root` through `dependencies` and the installed
 * `optionalDependencies` (npm installs only the target platform's), skipping `excluded`.
 */
async function runtimeClosure(nodeModulesDir: string, root: string, excluded: readonly string[]): Promise<Set<string>> {
  const reachable = new Set<string>();
  const pending = [root];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (reachable.has(name) || excluded.includes(name)) {
      continue;
    }
    reachable.add(name);
    const manifest = await readManifest(path.join(nodeModulesDir, name, 'package.json'));
    pending.push(...Object.keys(manifest.dependencies ?? {}));
    pending.push(
      ...Object.keys(manifest.optionalDependencies ?? {}).filter((optional) =>
        existsSync(path.join(nodeModulesDir, optional, 'package.json')),
      ),
    );
  }
  return reachable;
}

/**
 * Deletes files the runtime never loads: type declarations, source maps, READMEs, `lib/`
 * sources (only when the package's `main` points elsewhere) and the layer's `nonRuntimeDirs`.
 * `package.json` files (e.g. `dist/cjs/package.json` with `"type": "commonjs"`) and licences are kept.
 */
async function pruneNonRuntimeFiles(
  nodeModulesDir: string,
  packageNames: ReadonlySet<string>,
  nonRuntimeDirs: Readonly<Record<string, readonly string[]>>,
): Promise<void> {
  for (const packageName of packageNames) {
    const packageDir = path.join(nodeModulesDir, packageName);
    const manifest = await readManifest(path.join(packageDir, 'package.json'));
    const main = path.normalize(manifest.main ?? 'index.js');
    if (!main.startsWith(`lib${path.sep}`)) {
      await rm(path.join(packageDir, 'lib'), { recursive: true, force: true });
    }
    for (const dir of nonRuntimeDirs[packageName] ?? []) {
      await rm(path.join(packageDir, dir), { recursive: true, force: true });
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
 * Runs the layer's proof in a fresh `node` process and checks that the package resolved from
 * the layer at the expected version, that every module the process loaded (native bindings
 * included) came from the layer, and the layer's own check of the result. Skipped when the
 * host cannot load `linux/<arch>` binaries.
 */
async function proveLayerRuns(
  nodeModulesDir: string,
  layer: LayerDescription,
  arch: LayerArch,
  version: string,
): Promise<Pick<LayerBuildReport, 'proof' | 'proofDetail'>> {
  const host = `${process.platform}/${process.arch}`;
  if (process.platform !== 'linux' || process.arch !== arch) {
    return {
      proof: 'skipped (cross-arch)',
      proofDetail: `host is ${host}, layer targets linux/${arch}: run-proof skipped; linux/${arch} binaries are present`,
    };
  }
  const output = await runProofProcess(nodeModulesDir, layer);
  const layerRoot = await realpath(nodeModulesDir);
  const outside = [output.resolved, ...output.loaded].filter((file) => !file.startsWith(layerRoot + path.sep));
  if (outside.length > 0) {
    throw new Error(`Proof of the ${layer.id} layer loaded modules from outside the layer at ${layerRoot}: ${outside.slice(0, 5).join(', ')}`);
  }
  if (output.version !== version) {
    throw new Error(`Proof of the ${layer.id} layer loaded ${layer.packageName} ${output.version}, expected ${version}`);
  }
  const detail = layer.checkProof(output.result);
  return {
    proof: 'ran',
    proofDetail: `${detail} with ${layer.packageName} ${output.version} loaded from ${output.resolved} (${output.loaded.length} modules, all from the layer)`,
  };
}

/** The CommonJS script the proof process runs: the layer's proof, then what was loaded from where. */
function proofScript(layer: LayerDescription): string {
  return `
const packageName = ${JSON.stringify(layer.packageName)};
(async () => {
  const result = await (async () => {
${layer.proofSource}
  })();
  process.stdout.write(JSON.stringify({
    resolved: require.resolve(packageName),
    version: require(packageName + '/package.json').version,
    loaded: Object.keys(require.cache),
    result,
  }));
})().catch((error) => { console.error(error); process.exit(1); });
`;
}

async function runProofProcess(nodeModulesDir: string, layer: LayerDescription): Promise<ProofOutput> {
  const cwd = await mkdtemp(path.join(os.tmpdir(), `${layer.id}-layer-proof-`));
  try {
    // As on Lambda: no HOME, nothing but PATH and NODE_PATH.
    const env = { PATH: process.env.PATH ?? '', NODE_PATH: nodeModulesDir };
    const { stdout } = await runCommand(process.execPath, ['-e', proofScript(layer)], { cwd, env, timeoutMs: PROOF_TIMEOUT_MS });
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
    'loaded' in parsed &&
    Array.isArray(parsed.loaded) &&
    parsed.loaded.every((file: unknown) => typeof file === 'string') &&
    'result' in parsed
  ) {
    return { resolved: parsed.resolved, version: parsed.version, loaded: parsed.loaded as string[], result: parsed.result };
  }
  throw new Error(`Unexpected proof output: ${stdout}`);
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
  if (!existsSync(dir)) {
    return [];
  }
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

/** Absolute paths of the subdirectories of `dir` (none if it does not exist). */
export async function subdirectories(dir: string): Promise<string[]> {
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

/** `46361379` → `44.2 MB`. */
export function formatMegabytes(bytes: number): string {
  return `${(bytes / MEGABYTE).toFixed(1)} MB`;
}
