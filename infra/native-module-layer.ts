/**
 * The Lambda layers that provide native Node.js modules at `/opt/nodejs/node_modules` (on
 * Lambda's `NODE_PATH`): onnxruntime-node for inference, @duckdb/node-api for ingest. Each is
 * built by `layers/layer-builder.ts` (command line `layers/cli.ts`) from its description in `layers/<id>/build.ts`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AssetHashType, type ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { layerSourceFiles, MEGABYTE, type LayerArch, type LayerDescription } from '../layers/layer-builder.js';
import { LAYERS } from '../layers/layers.js';
import { REPO_ROOT } from '../topology/paths.js';
import type { LayerId } from '../topology/spec.js';

/** Bump to force a rebuild of every layer when nothing else in the hash changed. */
const LAYER_HASH_SALT = 'native-module-layer/1';

/** The build CLI shared by every layer. */
const BUILD_SCRIPT = path.join(REPO_ROOT, 'layers', 'cli.ts');

/** Properties of a {@link NativeModuleLayer}. */
export interface NativeModuleLayerProps {
  /** Which layer (topology `LayerId`): its package, pruning and proof come from `layers/<id>/build.ts`. */
  readonly layer: LayerId;

  /**
   * CPU architecture of the layer's native binaries; functions using it must match.
   *
   * @default 'x64' - arm64 only once its layer is proven on Lambda (GUIDE §4)
   */
  readonly arch?: LayerArch;

  /**
   * Unzipped size budget in MB, enforced by the build.
   *
   * @default - the layer's own default budget (80 MB for onnxruntime and duckdb)
   */
  readonly budgetMb?: number;

  /**
   * Lambda runtimes the layer declares itself compatible with.
   *
   * @default [lambda.Runtime.NODEJS_22_X]
   */
  readonly compatibleRuntimes?: readonly lambda.Runtime[];
}

/**
 * One native-module layer, holding the linux binaries of one architecture only.
 *
 * The asset is built locally at synth time by running `layers/cli.ts <id>` (no Docker).
 * Its hash covers the shared build script, the layer's description, the package version
 * installed in the repository, the architecture and the budget, so the layer is rebuilt and
 * republished exactly when one of those changes.
 */
export class NativeModuleLayer extends Construct {
  /** The layer version. */
  public readonly layerVersion: lambda.LayerVersion;

  /** The Lambda architecture the layer's binaries run on. */
  public readonly architecture: lambda.Architecture;

  /** The topology id of the layer. */
  public readonly layerId: LayerId;

  /** The npm package the layer provides. */
  public readonly packageName: string;

  /** The version of {@link packageName} packaged in the layer. */
  public readonly packageVersion: string;

  /** The unzipped size the build guarantees the layer stays within, in bytes. */
  public readonly budgetBytes: number;

  constructor(scope: Construct, id: string, props: NativeModuleLayerProps) {
    super(scope, id);
    const description: LayerDescription | undefined = (LAYERS as Partial<Record<string, LayerDescription>>)[props.layer];
    if (description === undefined) {
      throw new Error(`${this.node.path} layer must be one of ${Object.keys(LAYERS).join(', ')}, got '${String(props.layer)}'`);
    }
    const arch = props.arch ?? 'x64';
    if (arch !== 'x64' && arch !== 'arm64') {
      throw new Error(`${this.node.path} arch must be 'x64' or 'arm64', got '${String(arch)}'`);
    }
    if (props.budgetMb !== undefined && !(props.budgetMb > 0)) {
      throw new Error(`${this.node.path} budgetMb must be a positive number, got ${props.budgetMb}`);
    }
    const compatibleRuntimes = props.compatibleRuntimes ?? [lambda.Runtime.NODEJS_22_X];
    if (compatibleRuntimes.length === 0) {
      throw new Error(`${this.node.path} compatibleRuntimes must not be empty`);
    }

    this.layerId = description.id;
    this.packageName = description.packageName;
    this.packageVersion = readInstalledVersion(description.packageName);
    this.budgetBytes = props.budgetMb === undefined ? description.defaultBudgetBytes : props.budgetMb * MEGABYTE;
    this.architecture = arch === 'x64' ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64;

    const layerDir = path.join(REPO_ROOT, 'layers', description.id);
    const hash = createHash('sha256')
      .update(LAYER_HASH_SALT)
      .update(`\0${description.id}\0${arch}\0${this.packageVersion}\0${props.budgetMb ?? ''}\0`);
    for (const file of layerSourceFiles(description.id)) {
      hash.update(readFileSync(file)).update('\0');
    }

    this.layerVersion = new lambda.LayerVersion(this, 'Layer', {
      code: lambda.Code.fromAsset(layerDir, {
        assetHashType: AssetHashType.CUSTOM,
        assetHash: hash.digest('hex'),
        bundling: {
          // Required by the API; never used: local bundling either succeeds or throws.
          image: lambda.Runtime.NODEJS_22_X.bundlingImage,
          local: new LocalLayerBuild(description.id, arch, props.budgetMb),
        },
      }),
      compatibleArchitectures: [this.architecture],
      compatibleRuntimes: [...compatibleRuntimes],
      description: `${this.packageName} ${this.packageVersion} (linux/${arch})`,
      license: 'MIT',
    });
  }
}

/**
 * Builds the layer on the host with `tsx layers/cli.ts <id>` into a temporary directory,
 * then copies its `nodejs/` tree into the asset output directory. (Building straight into
 * `outputDir` would leave the build's zip next to it, inside `cdk.out`.)
 */
class LocalLayerBuild implements ILocalBundling {
  constructor(
    private readonly layer: LayerId,
    private readonly arch: LayerArch,
    private readonly budgetMb: number | undefined,
  ) {}

  public tryBundle(outputDir: string): boolean {
    const workDir = mkdtempSync(path.join(os.tmpdir(), `${this.layer}-layer-`));
    const layerOut = path.join(workDir, this.arch);
    try {
      const localTsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
      const [command, prefix] = existsSync(localTsx) ? [localTsx, []] : ['npx', ['tsx']];
      const budget = this.budgetMb === undefined ? [] : ['--budget-mb', String(this.budgetMb)];
      execFileSync(command, [...prefix, BUILD_SCRIPT, this.layer, '--arch', this.arch, '--out', layerOut, ...budget], {
        cwd: REPO_ROOT,
        // The build's report goes to stderr: the CDK CLI reserves the app's stdout.
        stdio: ['ignore', 2, 'inherit'],
      });
      cpSync(path.join(layerOut, 'nodejs'), path.join(outputDir, 'nodejs'), { recursive: true });
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
    return true;
  }
}

function readInstalledVersion(packageName: string): string {
  const manifestPath = path.join(REPO_ROOT, 'node_modules', packageName, 'package.json');
  if (!existsSync(manifestPath)) {
    throw new Error(`${packageName} is not installed (${manifestPath} is missing): run npm ci before cdk synth`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string') {
    throw new Error(`No version in ${manifestPath}`);
  }
  return manifest.version;
}
