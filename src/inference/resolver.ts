import { NotFoundError } from '../http/errors.js';
import type { VersionSelector } from '../registry/names.js';
import type { ModelWithAliases } from '../registry/registry.js';
import type { ModelVersion } from '../registry/types.js';
import { pickRoute } from './routing.js';

/** The registry reads serving needs (implemented by `ModelRegistry`). */
export interface RegistryReader {
  findModelWithAliases(name: string): Promise<ModelWithAliases | undefined>;
  getVersion(model: string, version: number): Promise<ModelVersion>;
}

interface Expiring<T> {
  readonly value: Promise<T>;
  readonly expiresAt: number;
}

/**
 * Resolves `model[/versions/{number|alias}]` to an immutable version through the
 * registry, per container: a model and its aliases are read in one query and
 * cached for `ttlMs` (so an alias change, or a new model, reaches every container
 * within the TTL; an unknown model is cached as unknown just as long, which spares
 * the registry from repeated misses), versions for the TTL as well (their status
 * changes: an archived version stops being served).
 * Failures (throttling, outages) are not cached.
 */
export class ModelResolver {
  private readonly models = new Map<string, Expiring<ModelWithAliases | undefined>>();
  private readonly versions = new Map<string, Expiring<ModelVersion>>();

  constructor(
    private readonly registry: RegistryReader,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The version a request for `model` with `selector` (none: the model's default alias) is served by. */
  async resolve(model: string, selector: VersionSelector | undefined, routingKey?: string): Promise<ModelVersion> {
    if (selector?.kind === 'number') return this.version(model, selector.version);
    const snapshot = await this.cached(this.models, model, () => this.registry.findModelWithAliases(model));
    if (snapshot === undefined) throw new NotFoundError(`model '${model}' not found`);
    const alias = selector?.alias ?? snapshot.model.defaultAlias;
    const record = snapshot.aliases.get(alias);
    if (record === undefined) throw new NotFoundError(`model '${model}' has no alias '${alias}'`);
    return this.version(model, pickRoute(record.routes, routingKey));
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
