/**
 * Inference bounded context: the Lambda layer that provides `onnxruntime-node` at
 * `/opt/nodejs/node_modules`, built by `layers/onnxruntime/build.ts`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AssetHashType, type ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { LayerArch } from '../layers/onnxruntime/build.js';
import { REPO_ROOT } from './paths.js';

/** Bump to force a rebuild of the layer when nothing else in the hash changed. */
const LAYER_HASH_SALT = 'onnxruntime-layer/1';

/** Properties of an {@link OnnxRuntimeLayer}. */
export interface OnnxRuntimeLayerProps {
  /**
   * CPU architecture of the layer's native binaries; functions using it must match.
   *
   * @default 'x64' - arm64 only once its layer is proven on Lambda (GUIDE §4)
   */
  readonly arch?: LayerArch;

  /**
   * Unzipped size budget in MB, enforced by the build.
   *
   * @default - the build script's default budget (80 MB)
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
 * The onnxruntime-node layer (linux binaries of one architecture only).
 *
 * The asset is built locally at synth time by running `layers/onnxruntime/build.ts` (no Docker).
 * Its hash is computed from the build script, the onnxruntime-node version installed in the
 * repository and the architecture, so the layer is rebuilt and republished exactly when one of
 * those changes.
 */
export class OnnxRuntimeLayer extends Construct {
  /** The layer version. */
  public readonly layerVersion: lambda.LayerVersion;

  /** The Lambda architecture the layer's binaries run on. */
  public readonly architecture: lambda.Architecture;

  /** The onnxruntime-node version packaged in the layer. */
  public readonly onnxruntimeVersion: string;

  constructor(scope: Construct, id: string, props: OnnxRuntimeLayerProps = {}) {
    super(scope, id);
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

    const layerDir = path.join(REPO_ROOT, 'layers', 'onnxruntime');
    const buildScript = path.join(layerDir, 'build.ts');
    this.onnxruntimeVersion = readInstalledOnnxRuntimeVersion();
    this.architecture = arch === 'x64' ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64;

    const assetHash = createHash('sha256')
      .update(LAYER_HASH_SALT)
      .update(`\0${arch}\0${this.onnxruntimeVersion}\0${props.budgetMb ?? ''}\0`)
      .update(readFileSync(buildScript))
      .digest('hex');

    this.layerVersion = new lambda.LayerVersion(this, 'Layer', {
      code: lambda.Code.fromAsset(layerDir, {
        assetHashType: AssetHashType.CUSTOM,
        assetHash,
        bundling: {
          // Required by the API; never used: local bundling either succeeds or throws.
          image: lambda.Runtime.NODEJS_22_X.bundlingImage,
          local: new LocalLayerBuild(buildScript, arch, props.budgetMb),
        },
      }),
      compatibleArchitectures: [this.architecture],
      compatibleRuntimes: [...compatibleRuntimes],
      description: `onnxruntime-node ${this.onnxruntimeVersion} (linux/${arch})`,
      license: 'MIT',
    });
  }
}

/**
 * Builds the layer on the host with `tsx layers/onnxruntime/build.ts` into a temporary
 * directory, then copies its `nodejs/` tree into the asset output directory. (Building straight
 * into `outputDir` would leave the build's zip next to it, inside `cdk.out`.)
 */
class LocalLayerBuild implements ILocalBundling {
  constructor(
    private readonly buildScript: string,
    private readonly arch: LayerArch,
    private readonly budgetMb: number | undefined,
  ) {}

  public tryBundle(outputDir: string): boolean {
    const workDir = mkdtempSync(path.join(os.tmpdir(), 'onnxruntime-layer-'));
    const layerOut = path.join(workDir, this.arch);
    try {
      const localTsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
      const [command, prefix] = existsSync(localTsx) ? [localTsx, []] : ['npx', ['tsx']];
      const budget = this.budgetMb === undefined ? [] : ['--budget-mb', String(this.budgetMb)];
      execFileSync(command, [...prefix, this.buildScript, '--arch', this.arch, '--out', layerOut, ...budget], {
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

function readInstalledOnnxRuntimeVersion(): string {
  const manifestPath = path.join(REPO_ROOT, 'node_modules', 'onnxruntime-node', 'package.json');
  if (!existsSync(manifestPath)) {
    throw new Error(`onnxruntime-node is not installed (${manifestPath} is missing): run npm ci before cdk synth`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string') {
    throw new Error(`No version in ${manifestPath}`);
  }
  return manifest.version;
}
