/**
 * What makes a version or an alias fit to stand in for an alias while the versions it routes to
 * cannot answer (an alias's `fallback`), checked whenever either side changes: when an alias names
 * a fallback or changes its routes ({@link checkFallback}), and when an alias that others fall back
 * to changes its routes or is deleted ({@link checkFallbackDependents}). Serving checks the same
 * again before a fallback answers (`standInDifference`), since a change may land between reads.
 */
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { AliasFallback, AliasRecord, AliasRoute, ModelSignature, ModelVersion } from './types.js';

/** What the rules read of the registry. */
export interface FallbackReader {
  getVersion(model: string, version: number): Promise<ModelVersion>;
  /** An alias as stored, a deleted one (no routes) included; `undefined` if it never existed. */
  findAliasItem(model: string, alias: string): Promise<AliasRecord | undefined>;
  /** The model's aliases that route somewhere. */
  aliasesOf(model: string): Promise<readonly AliasRecord[]>;
}

/** Where two signatures differ in what callers send and read (tensor names and datatypes; shapes may differ), or `undefined`. */
export function interfaceDifference(a: ModelSignature, b: ModelSignature): string | undefined {
  const listed = (tensors: ModelSignature['inputs']) => tensors.map((t) => `${t.name} ${t.datatype}`).sort().join(', ');
  for (const side of ['inputs', 'outputs'] as const) {
    if (listed(a[side]) !== listed(b[side])) return `${side} ${listed(a[side]) || 'none'} against ${listed(b[side]) || 'none'}`;
  }
  return undefined;
}

/**
 * Why `standIn` cannot answer for `primary` (served by a SageMaker endpoint, or other tensors), or
 * `undefined` when it can. The serving-time check of what {@link checkFallback} requires.
 */
export function standInDifference(primary: ModelVersion, standIn: ModelVersion): string | undefined {
  if (standIn.backend?.kind === 'sagemaker') return `version ${standIn.version} is served by a SageMaker endpoint`;
  return interfaceDifference(primary.signature, standIn.signature);
}

/** The alias a fallback is checked for: its name, the versions it routes to and whether it requires APPROVED versions. */
interface Dependent {
  readonly alias: string;
  readonly routed: readonly ModelVersion[];
  readonly requireApproved: boolean;
}

/** Checks one version as the stand-in of `dependent` (see {@link checkFallback}); `via` words how it is reached, e.g. `its fallback version 3`. */
function checkStandIn(model: string, dependent: Dependent, version: ModelVersion, via: string): void {
  const { alias } = dependent;
  for (const primary of dependent.routed) {
    const difference = interfaceDifference(primary.signature, version.signature);
    if (difference !== undefined) {
      throw new ConflictError(`${via} of model '${model}' does not take and answer the tensors of version ${primary.version}, which alias '${alias}' routes to: ${difference}`);
    }
  }
  if (version.status === 'ARCHIVED') throw new ConflictError(`${via} of model '${model}' is archived; it cannot be a fallback of alias '${alias}'`);
  if (dependent.requireApproved && version.status !== 'APPROVED') {
    throw new ConflictError(`alias '${alias}' only routes to APPROVED versions; ${via} of model '${model}' is ${version.status}`);
  }
  if (version.backend?.kind === 'sagemaker') {
    throw new InvalidRequestError(
      `${via} of model '${model}' is served by a SageMaker endpoint; a fallback must be served by the predict function (ONNX), which answers while endpoints cannot`,
    );
  }
}

/**
 * An alias's fallback must be able to stand in for it:
 * - a version of the same model that exists (NotFoundError), is not archived and, where the alias requires
 *   it, is APPROVED (ConflictError), takes and answers the tensors of every version the alias routes to
 *   (same input and output names and datatypes: ConflictError), and that the predict function serves (InvalidRequestError
 *   for a SageMaker-backed version: the fallback answers while SageMaker endpoints cannot, and one
 *   on SageMaker would be as cold or as broken as the version it stands in for, with nothing
 *   behind it);
 * - or another alias of the model (NotFoundError if it routes nowhere) whose routes all meet the same
 *   conditions, and whose own fallbacks never lead back to this alias (ConflictError: no cycles). Serving
 *   follows one fallback only.
 */
export async function checkFallback(
  reader: FallbackReader,
  model: string,
  alias: string,
  fallback: AliasFallback,
  routes: readonly AliasRoute[],
  requireApproved: boolean,
): Promise<void> {
  const dependent: Dependent = { alias, routed: await Promise.all(routes.map((route) => reader.getVersion(model, route.version))), requireApproved };
  if ('version' in fallback) {
    checkStandIn(model, dependent, await reader.getVersion(model, fallback.version), `fallback version ${fallback.version}`);
    return;
  }
  if (fallback.alias === alias) throw new InvalidRequestError(`alias '${alias}' cannot be its own fallback`);
  const target = await reader.findAliasItem(model, fallback.alias);
  if (target === undefined || target.routes.length === 0) throw new NotFoundError(`model '${model}' has no alias '${fallback.alias}' to fall back to`);
  for (const route of target.routes) {
    checkStandIn(model, dependent, await reader.getVersion(model, route.version), `version ${route.version} (of fallback alias '${fallback.alias}')`);
  }
  const chain = [alias, fallback.alias];
  for (let next = target.fallback; next !== undefined && 'alias' in next; next = (await reader.findAliasItem(model, next.alias))?.fallback) {
    chain.push(next.alias);
    if (next.alias === alias || chain.indexOf(next.alias) < chain.length - 1) {
      throw new ConflictError(`alias fallbacks would form a cycle: ${chain.map((name) => `'${name}'`).join(' → ')}`);
    }
  }
}

/**
 * The aliases that fall back to `alias` must still be able to once it routes to `routes`: each new
 * route must stand in for each of them ({@link checkFallback}'s conditions, ConflictError or
 * InvalidRequestError naming the alias that falls back); and an alias others fall back to cannot
 * be deleted (`routes` empty: ConflictError naming them).
 */
export async function checkFallbackDependents(reader: FallbackReader, model: string, alias: string, routes: readonly AliasRoute[]): Promise<void> {
  const dependents = (await reader.aliasesOf(model)).filter((a) => a.alias !== alias && a.fallback !== undefined && 'alias' in a.fallback && a.fallback.alias === alias);
  if (dependents.length === 0) return;
  if (routes.length === 0) {
    throw new ConflictError(`alias '${alias}' of model '${model}' is the fallback of alias(es) ${dependents.map((a) => `'${a.alias}'`).join(', ')}; change their fallback first`);
  }
  const versions = await Promise.all(routes.map((route) => reader.getVersion(model, route.version)));
  for (const a of dependents) {
    const dependent: Dependent = { alias: a.alias, routed: await Promise.all(a.routes.map((route) => reader.getVersion(model, route.version))), requireApproved: a.requireApproved ?? false };
    for (const version of versions) checkStandIn(model, dependent, version, `version ${version.version} (alias '${alias}', the fallback of alias '${a.alias}')`);
  }
}
