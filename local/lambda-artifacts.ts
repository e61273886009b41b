/**
 * The artifacts Lambda runs, built on this machine and laid out as Lambda lays them out: each
 * function's esbuild bundle (the stack's settings: `topology/bundling.ts`) as `var/task/index.js`,
 * and each layer it uses (`layers/`, built exactly as the stack builds them) as
 * `opt/<layer>/nodejs/node_modules`, reached only through `NODE_PATH` as in Lambda.
 *
 * The root must be outside the repository: Node resolves `node_modules` up the directory tree
 * before `NODE_PATH`, so a bundle inside the checkout would find the repository's own packages and
 * hide a module missing from its layer.
 */
import { build, context, type BuildContext } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLayer, layerSourceFiles, readInstalledVersion } from '../layers/layer-builder.js';
import { LAYERS } from '../layers/layers.js';
import { functionBuildOptions } from '../topology/bundling.js';
import { REPO_ROOT } from '../topology/paths.js';
import type { FunctionSpec, LayerId } from '../topology/spec.js';

/** A function's artifact: its bundle and the `NODE_PATH` that reaches its layers. */
export interface FunctionArtifact {
  /** The bundle (CommonJS), `<root>/<function>/var/task/index.js`. */
  readonly bundle: string;
  /** `NODE_PATH` as Lambda sets it for the function's layers (`/opt/nodejs/node_modules`, one per layer here). */
  readonly nodePath: string;
}

/** Bundles one function into `<root>/<id>/var/task/index.js` (a `package.json` there says CommonJS, as Lambda's task root has none). */
export async function bundleFunction(spec: FunctionSpec, root: string): Promise<string> {
  const taskDir = path.join(root, spec.id, 'var', 'task');
  await mkdir(taskDir, { recursive: true });
  const bundle = path.join(taskDir, 'index.js');
  await build(functionBuildOptions(path.resolve(REPO_ROOT, spec.entry), bundle));
  await writeFile(path.join(taskDir, 'package.json'), '{"type":"commonjs"}\n');
  return bundle;
}

/** What a layer's content depends on: the builder, its description and the packaged version. */
async function layerKey(id: LayerId): Promise<string> {
  const hash = createHash('sha256').update(`${id}\0${await readInstalledVersion(LAYERS[id].packageName)}\0`);
  for (const file of layerSourceFiles(id)) hash.update(readFileSync(file)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds a layer (linux/x64) into `<root>/opt/<id>-<key>/` unless a build for the same builder,
 * description and package version is there already; returns its `nodejs/node_modules`.
 */
export async function prepareLayer(id: LayerId, root: string): Promise<string> {
  const dir = path.join(root, 'opt', `${id}-${await layerKey(id)}`);
  const nodeModules = path.join(dir, 'nodejs', 'node_modules');
  if (existsSync(path.join(dir, 'complete'))) return nodeModules;
  const staging = `${dir}.building-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await buildLayer(LAYERS[id], { arch: 'x64', outDir: staging });
  await writeFile(path.join(staging, 'complete'), '');
  await rm(path.join(path.dirname(staging), `${id}-x64.zip`), { force: true });
  try {
    await rename(staging, dir);
  } catch (error) {
    // Another process (a parallel test file) finished the same build first: use its copy.
    if (!existsSync(path.join(dir, 'complete'))) throw error;
    await rm(staging, { recursive: true, force: true });
  }
  return nodeModules;
}

/** Where layers are kept between runs (they change only with the builder, a description or a package version). */
export const DEFAULT_LAYERS_ROOT = path.join(tmpdir(), 'serverless-ai-platform-layers');

/** Where {@link buildArtifacts} puts bundles and layers; both outside the repository. */
export interface ArtifactRoots {
  /** Bundles (and the container host), one folder per function. */
  readonly bundles: string;
  /** Layers, shared by every run. @default DEFAULT_LAYERS_ROOT */
  readonly layers?: string;
}

function assertOutsideRepository(dir: string): void {
  if (!path.relative(REPO_ROOT, path.resolve(dir)).startsWith('..')) {
    throw new Error(`Lambda artifacts must be built outside the repository (${dir} is inside ${REPO_ROOT}): Node would resolve the repository's node_modules before the layers`);
  }
}

/** Bundles every function and prepares the layers they use (each layer once). */
export async function buildArtifacts(functions: readonly FunctionSpec[], roots: ArtifactRoots): Promise<Map<string, FunctionArtifact>> {
  const layersRoot = roots.layers ?? DEFAULT_LAYERS_ROOT;
  assertOutsideRepository(roots.bundles);
  assertOutsideRepository(layersRoot);
  const layers = new Map<LayerId, string>();
  for (const id of new Set(functions.flatMap((fn) => fn.layers))) layers.set(id, await prepareLayer(id, layersRoot));
  const artifacts = new Map<string, FunctionArtifact>();
  await Promise.all(
    functions.map(async (fn) => {
      const bundle = await bundleFunction(fn, roots.bundles);
      artifacts.set(fn.id, { bundle, nodePath: fn.layers.map((id) => layers.get(id)!).join(path.delimiter) });
    }),
  );
  return artifacts;
}

/**
 * The local container host (`function-host.ts`) as plain JavaScript, `<root>/host/function-host.cjs`,
 * so containers of bundles run under plain `node` as in Lambda (no tsx in the process).
 */
export async function buildHost(root: string): Promise<string> {
  const outfile = path.join(root, 'host', 'function-host.cjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./function-host.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    logLevel: 'warning',
  });
  return outfile;
}

/**
 * Rebuilds each function's bundle when its sources change (esbuild's watch mode), calling
 * `onRebuilt` with the function's id after every successful rebuild; build errors are reported
 * to `onError` and the previous bundle keeps running. Returns a function that stops watching.
 */
export async function watchBundles(
  functions: readonly FunctionSpec[],
  root: string,
  onRebuilt: (functionId: string) => void,
  onError: (functionId: string, message: string) => void,
): Promise<() => Promise<void>> {
  const contexts: BuildContext[] = [];
  for (const fn of functions) {
    let first = true;
    const options = functionBuildOptions(path.resolve(REPO_ROOT, fn.entry), path.join(root, fn.id, 'var', 'task', 'index.js'));
    const ctx = await context({
      ...options,
      plugins: [
        {
          name: 'rebuilt',
          setup(build) {
            build.onEnd((result) => {
              if (first) first = false;
              else if (result.errors.length > 0) onError(fn.id, result.errors.map((e) => e.text).join('; '));
              else onRebuilt(fn.id);
            });
          },
        },
      ],
    });
    await ctx.watch();
    contexts.push(ctx);
  }
  return async () => void (await Promise.all(contexts.map((ctx) => ctx.dispose())));
}
