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
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildLayer, readInstalledVersion } from '../layers/layer-builder.js';
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
  for (const file of [path.join(REPO_ROOT, 'layers', 'layer-builder.ts'), path.join(REPO_ROOT, 'layers', id, 'build.ts')]) hash.update(readFileSync(file)).update('\0');
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
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir);
  await rm(path.join(path.dirname(staging), `${id}-x64.zip`), { force: true });
  return nodeModules;
}

/** Bundles every function and prepares the layers they use (each layer once). */
export async function buildArtifacts(functions: readonly FunctionSpec[], root: string): Promise<Map<string, FunctionArtifact>> {
  if (!path.relative(REPO_ROOT, path.resolve(root)).startsWith('..')) {
    throw new Error(`Lambda artifacts must be built outside the repository (${root} is inside ${REPO_ROOT}): Node would resolve the repository's node_modules before the layers`);
  }
  const layerIds = [...new Set(functions.flatMap((fn) => fn.layers))];
  const layers = new Map<LayerId, string>();
  for (const id of layerIds) layers.set(id, await prepareLayer(id, root));
  const artifacts = new Map<string, FunctionArtifact>();
  await Promise.all(
    functions.map(async (fn) => {
      const bundle = await bundleFunction(fn, root);
      artifacts.set(fn.id, { bundle, nodePath: fn.layers.map((id) => layers.get(id)!).join(path.delimiter) });
    }),
  );
  return artifacts;
}
