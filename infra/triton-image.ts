/**
 * Where SageMaker pulls the Triton Inference Server image from: AWS publishes
 * `sagemaker-tritonserver` (Triton with its SageMaker front end, `/invocations` and `/ping`) in an
 * AWS-owned ECR registry of each region. The table below is the 26.05 entry of the SageMaker
 * Python SDK's image table (aws/sagemaker-python-sdk,
 * `sagemaker-core/src/sagemaker/core/image_uri_config/sagemaker-tritonserver.json`), the newest
 * release there, in its GPU and CPU builds; Triton 26.05 ships the ONNX Runtime backend (ONNX Runtime 1.24.4, triton-inference-server/server
 * `build.py` on r26.05). To move to a newer release, copy that release's registries and tag from
 * the same file.
 */
import { Aws, CfnMapping, CfnRule, Fn, Stack, Token } from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import type { Construct } from 'constructs';

/** The ECR repository of AWS's Triton images for SageMaker. */
export const TRITON_REPOSITORY = 'sagemaker-tritonserver';

/** Triton's two builds: the GPU build for endpoints on instances, the CPU build for serverless endpoints (no GPU there). */
export type TritonBuild = 'gpu' | 'cpu';

/**
 * The image tags of Triton 26.05: the SDK's GPU tag, and its CPU build, the same tag with `-cpu`
 * (the SDK's `image_uris` appends `-cpu` for the CPU processor). Both are in the same repository
 * of each region's registry.
 */
export const TRITON_IMAGE_TAGS: Readonly<Record<TritonBuild, string>> = { gpu: '26.05-py3', cpu: '26.05-py3-cpu' };

/** The CDK context (and stack prop) that overrides each build's image. */
export const TRITON_IMAGE_CONTEXT: Readonly<Record<TritonBuild, string>> = { gpu: 'tritonImageUri', cpu: 'tritonCpuImageUri' };

/** The AWS account that hosts the Triton image in each region (SageMaker Python SDK, Triton 26.05). */
export const TRITON_REGISTRY_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '626614931356',
  'ap-east-1': '871362719292',
  'ap-east-2': '975050140332',
  'ap-northeast-1': '763104351884',
  'ap-northeast-2': '763104351884',
  'ap-northeast-3': '364406365360',
  'ap-south-1': '763104351884',
  'ap-south-2': '772153158452',
  'ap-southeast-1': '763104351884',
  'ap-southeast-2': '763104351884',
  'ap-southeast-3': '907027046896',
  'ap-southeast-4': '457447274322',
  'ap-southeast-5': '550225433462',
  'ap-southeast-6': '633930458069',
  'ap-southeast-7': '590183813437',
  'ca-central-1': '763104351884',
  'ca-west-1': '204538143572',
  'eu-central-1': '763104351884',
  'eu-central-2': '380420809688',
  'eu-north-1': '763104351884',
  'eu-south-1': '692866216735',
  'eu-south-2': '503227376785',
  'eu-west-1': '763104351884',
  'eu-west-2': '763104351884',
  'eu-west-3': '763104351884',
  'il-central-1': '780543022126',
  'me-central-1': '914824155844',
  'me-south-1': '217643126080',
  'mx-central-1': '637423239942',
  'sa-east-1': '763104351884',
  'us-east-1': '763104351884',
  'us-east-2': '763104351884',
  'us-west-1': '763104351884',
  'us-west-2': '763104351884',
};

/** An ECR image: its URI and the ARN of its repository (what a role needs to pull it). */
export interface EcrImage {
  readonly imageUri: string;
  readonly repositoryArn: string;
}

/** `<account>.dkr.ecr.<region>.<domain>/<repository>[:<tag>|@<digest>]`. */
const ECR_IMAGE_URI = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.(amazonaws\.com(?:\.cn)?)\/([a-z0-9][a-z0-9._/-]*)(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$/;

/** The Triton images of the stack's region, one per build. */
export interface TritonImages {
  /** Endpoints on instances (GPU or CPU instance types). */
  readonly gpu: EcrImage;
  /** Serverless endpoints. */
  readonly cpu: EcrImage;
}

/**
 * The Triton images for the stack's region: each build's `sagemaker-tritonserver` image of the
 * table, or its override (any ECR image URI, e.g. a newer Triton release or one of your own builds).
 *
 * A stack with a concrete region gets the literal URIs, and synth fails for a region the table
 * lacks (unless both builds are overridden). A region-agnostic stack gets the table as a
 * CloudFormation mapping (`Fn::FindInMap` on `AWS::Region`; the same registry hosts both builds)
 * and a template rule that refuses, before any resource is created, a deployment to a region the
 * table lacks.
 *
 * @param scope - Where the mapping and the rule go (when the region is not known at synth).
 * @param overrides - ECR image URIs to use instead of the table's, per build.
 * @throws If an override is not an ECR image URI, or the stack's region is not in the table.
 */
export function tritonImages(scope: Construct, overrides: Partial<Record<TritonBuild, string>> = {}): TritonImages {
  const stack = Stack.of(scope);
  let registry: string | undefined;
  const image = (build: TritonBuild): EcrImage => {
    const override = overrides[build];
    if (override !== undefined) return parseEcrImageUri(override, TRITON_IMAGE_CONTEXT[build]);
    registry ??= registryAccount(scope);
    return imageIn(stack, registry, TRITON_IMAGE_TAGS[build]);
  };
  return { gpu: image('gpu'), cpu: image('cpu') };
}

/** The account of the table's registry in the stack's region: literal, or a mapping lookup guarded by a template rule. */
function registryAccount(scope: Construct): string {
  const stack = Stack.of(scope);
  if (!Token.isUnresolved(stack.region)) {
    const account = TRITON_REGISTRY_ACCOUNTS[stack.region];
    if (account === undefined) {
      throw new Error(
        `${scope.node.path}: no Triton image for SageMaker is known in region '${stack.region}' (known: ${Object.keys(TRITON_REGISTRY_ACCOUNTS).join(', ')}); give ECR image URIs as the tritonImageUri and tritonCpuImageUri stack props or CDK context`,
      );
    }
    return account;
  }
  const mapping = new CfnMapping(scope, 'TritonRegistryAccounts', {
    mapping: Object.fromEntries(Object.entries(TRITON_REGISTRY_ACCOUNTS).map(([region, account]) => [region, { account }])),
  });
  new CfnRule(scope, 'TritonImageRegion', {
    assertions: [
      {
        assert: Fn.conditionContains(Object.keys(TRITON_REGISTRY_ACCOUNTS), Aws.REGION),
        assertDescription: 'No Triton image for SageMaker is known in this region: deploy with the tritonImageUri and tritonCpuImageUri context (ECR image URIs).',
      },
    ],
  });
  return mapping.findInMap(Aws.REGION, 'account');
}

/** The table's image with `tag` in the stack's region (literal or token), hosted by `account`. */
function imageIn(stack: Stack, account: string, tag: string): EcrImage {
  const urlSuffix = Token.isUnresolved(stack.region) ? stack.urlSuffix : (RegionInfo.get(stack.region).domainSuffix ?? stack.urlSuffix);
  return {
    imageUri: `${account}.dkr.ecr.${stack.region}.${urlSuffix}/${TRITON_REPOSITORY}:${tag}`,
    repositoryArn: `arn:${stack.partition}:ecr:${stack.region}:${account}:repository/${TRITON_REPOSITORY}`,
  };
}

/**
 * The repository of an ECR image URI.
 *
 * @param what - The setting `uri` came from, for the error.
 * @throws If `uri` is not `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>:<tag>` (or `@sha256:<digest>`).
 */
export function parseEcrImageUri(uri: string, what: string): EcrImage {
  const match = ECR_IMAGE_URI.exec(uri);
  if (match === null) {
    throw new Error(`${what} must be an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>), got '${uri}'`);
  }
  const [, account, region, domain, repository] = match;
  const partition = domain === 'amazonaws.com.cn' ? 'aws-cn' : 'aws';
  return { imageUri: uri, repositoryArn: `arn:${partition}:ecr:${region}:${account}:repository/${repository}` };
}
