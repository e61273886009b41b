import { ConflictError, NotFoundError } from '../errors.js';
import { standInDifference } from '../registry/fallback-rules.js';
import type { VersionSelector } from '../registry/names.js';
import type { ModelWithAliases } from '../registry/registry.js';
import type { AliasFallback, AliasRoute, AliasShadow, ModelVersion } from '../registry/types.js';
import { pickRoute, primaryRoute } from './routing.js';

/** The registry reads serving needs (implemented by `ModelRegistry`). */
export interface RegistryReader {
  findModelWithAliases(name: string): Promise<ModelWithAliases | undefined>;
  getVersion(model: string, version: number): Promise<ModelVersion>;
  /** The numbers of a model's versions that are not ARCHIVED, lowest first. */
  servableVersionNumbers(model: string): Promise<number[]>;
}

interface Expiring<T> {
  readonly value: Promise<T>;
  readonly expiresAt: number;
}

/** A model's aliases as one container serves them, and the switch to newer ones under way, if any. */
interface Snapshot {
  readonly value: ModelWithAliases | undefined;
  readonly expiresAt: number;
  /** Newer aliases, served once the versions they newly route to are loaded. */
  readonly refreshing?: Promise<ModelWithAliases | undefined>;
}

/** The version a request is served by, and the alias it came through with its shadow and fallback, if any. */
export interface Resolution {
  readonly version: ModelVersion;
  /** The alias that picked the version (none when the request named a version number). */
  readonly alias?: string;
  readonly shadow?: AliasShadow;
  /** What answers while the version's backend cannot ({@link ModelResolver.fallbackVersion}). */
  readonly fallback?: AliasFallback;
}

/** Longest a container keeps serving its previous aliases while it loads a newly routed version. */
export const WARM_LIMIT_MS = 20_000;

/** Versions `next` routes traffic to (or falls back to) that `previous` did not. */
function newlyRouted(previous: ModelWithAliases | undefined, next: ModelWithAliases | undefined): number[] {
  const routed = (snapshot: ModelWithAliases | undefined) =>
    new Set(
      [...(snapshot?.aliases.values() ?? [])].flatMap((a) => [
        ...a.routes.map((r) => r.version),
        ...(a.fallback !== undefined && 'version' in a.fallback ? [a.fallback.version] : []),
      ]),
    );
  const before = routed(previous);
  return [...routed(next)].filter((version) => !before.has(version));
}

/**
 * Resolves `model[/versions/{number|alias}]` to a version through the registry, per
 * container: a model and its aliases are read in one query and cached for `ttlMs` (so an
 * alias change, or a new model, reaches every container within the TTL; an unknown model
 * is cached as unknown just as long, which spares the registry from repeated misses),
 * versions for the TTL as well (their status changes: an archived version stops being served).
 *
 * Warm before traffic: when a refresh finds an alias routing (or falling back) to a version it did
 * not route to before, the container loads that version (`warm`) while it keeps serving the aliases it had;
 * it switches once the load is done (loaded or failed), so the first request a version gets in
 * a warm container does not pay the model load. Moves between versions already routed switch at
 * once. Failed reads are not cached: the request fails (DependencyUnavailableError for throttling) and the next reads again.
 */
export class ModelResolver {
  private readonly models = new Map<string, Snapshot>();
  private readonly versions = new Map<string, Expiring<ModelVersion>>();
  private readonly servable = new Map<string, Expiring<number[]>>();

  constructor(
    private readonly registry: RegistryReader,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly warm: (version: ModelVersion) => Promise<unknown> = async () => {},
  ) {}

  /** The version a request for `model` with `selector` (none: the model's default alias) is served by. */
  resolve(model: string, selector: VersionSelector | undefined, routingKey?: string): Promise<Resolution> {
    return this.resolveWith(model, selector, (routes) => pickRoute(routes, routingKey));
  }

  /**
   * The version that describes `model` with `selector` (model metadata): the version named, or the
   * alias's primary route ({@link primaryRoute}), the same for every caller whatever the split.
   */
  primary(model: string, selector: VersionSelector | undefined): Promise<Resolution> {
    return this.resolveWith(model, selector, primaryRoute);
  }

  /**
   * The version that answers for an alias while `primary`, the version it picked, cannot (its
   * backend not ready, its breaker open): the fallback version, or the version the fallback alias
   * picks for this caller (its own fallback is not followed). The registry keeps fallbacks fit to
   * stand in, but a change may land between this container's reads: a version that cannot stand in
   * for `primary` (on SageMaker, or other tensors) is refused (ConflictError), so the caller gets
   * the primary's answer rather than a refusal of a sound request.
   */
  async fallbackVersion(primary: ModelVersion, fallback: AliasFallback, routingKey?: string): Promise<ModelVersion> {
    const model = primary.model;
    const standIn = 'version' in fallback ? await this.version(model, fallback.version) : (await this.resolve(model, { kind: 'alias', alias: fallback.alias }, routingKey)).version;
    const difference = standInDifference(primary, standIn);
    if (difference !== undefined) throw new ConflictError(`version ${standIn.version} of model '${model}' cannot stand in for version ${primary.version}: ${difference}`);
    return standIn;
  }

  /** The numbers of the versions of `model` a request may name (not archived), cached for the TTL like the rest. */
  servableVersions(model: string): Promise<number[]> {
    return this.cached(this.servable, model, () => this.registry.servableVersionNumbers(model));
  }

  private async resolveWith(model: string, selector: VersionSelector | undefined, pick: (routes: readonly AliasRoute[]) => number): Promise<Resolution> {
    if (selector?.kind === 'number') return { version: await this.version(model, selector.version) };
    let snapshot = await this.snapshot(model);
    // An alias (or model) this container has not served yet, while newer aliases load: wait for them rather than answer 'not found'.
    const known = (found: ModelWithAliases | undefined) => found !== undefined && found.aliases.has(selector?.alias ?? found.model.defaultAlias);
    if (!known(snapshot)) snapshot = (await this.models.get(model)?.refreshing) ?? snapshot;
    if (snapshot === undefined) throw new NotFoundError(`model '${model}' not found`);
    const alias = selector?.alias ?? snapshot.model.defaultAlias;
    const record = snapshot.aliases.get(alias);
    if (record === undefined) throw new NotFoundError(`model '${model}' has no alias '${alias}'`);
    const version = await this.version(model, pick(record.routes));
    return { version, alias, ...(record.shadow === undefined ? {} : { shadow: record.shadow }), ...(record.fallback === undefined ? {} : { fallback: record.fallback }) };
  }

  /**
   * The aliases to serve with now. After the TTL they are read again; if they now route to a
   * version they did not route to before, that version is loaded in the background while the
   * previous aliases keep serving, and they switch once it is loaded.
   */
  private async snapshot(model: string): Promise<ModelWithAliases | undefined> {
    const current = this.models.get(model);
    if (current !== undefined && (current.expiresAt > this.now() || current.refreshing !== undefined)) return current.value;
    const next = await this.registry.findModelWithAliases(model);
    const added = current === undefined ? [] : newlyRouted(current.value, next);
    if (current === undefined || added.length === 0) {
      this.models.set(model, { value: next, expiresAt: this.now() + this.ttlMs });
      return next;
    }
    const warming = (async () => {
      // A version that fails to load (or takes longer than WARM_LIMIT_MS) still gets its traffic,
      // and answers as it would have: with the failure, or by finishing the load.
      const loads = Promise.allSettled(added.map(async (version) => this.warm(await this.version(model, version))));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([loads, new Promise((resolve) => (timer = setTimeout(resolve, WARM_LIMIT_MS)))]);
      clearTimeout(timer);
      this.models.set(model, { value: next, expiresAt: this.now() + this.ttlMs });
      return next;
    })();
    this.models.set(model, { ...current, refreshing: warming });
    return current.value;
  }

  /** A version that may be served: its status can change (archiving), so it is cached for the TTL too. */
  private async version(model: string, version: number): Promise<ModelVersion> {
    const found = await this.cached(this.versions, `${model}@${version}`, () => this.registry.getVersion(model, version));
    if (found.status === 'ARCHIVED') throw new NotFoundError(`version ${version} of model '${model}' is archived`);
    return found;
  }

  private cached<T>(cache: Map<string, Expiring<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const now = this.now();
    const hit = cache.get(key);
    if (hit !== undefined && hit.expiresAt > now) return hit.value;
    const value = load();
    const entry = { value, expiresAt: now + this.ttlMs };
    cache.set(key, entry);
    value.catch(() => {
      if (cache.get(key) === entry) cache.delete(key);
    });
    return value;
  }
}
