import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { toStorable } from '../storage/numbers.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import { checkFallback, checkFallbackDependents, type FallbackReader } from './fallback-rules.js';
import { AliasLedger, type AliasHead, type LedgerChange, type LedgerEntry } from './alias-ledger.js';
import { NO_EVENTS, type RegistryEventSink } from './events.js';
import { ATTR, isConditionFailure, LIST_INDEX, stripKeys, type RegistryTable, type ItemFilter, type Page, type PageRequest } from '../storage/table.js';
import { VERSION_PREFIX, versionSk } from '../storage/version-numbers.js';
import { ALIAS_PREFIX, DEPLOYMENTS_GSI_PK, MODEL_SK, MODELS_GSI_PK, aliasSk, modelPk } from './keys.js';
import {
  VERSION_TRANSITIONS,
  type AliasFallback,
  type AliasRecord,
  type AliasRoute,
  type AliasShadow,
  type Deployment,
  type DeploymentNamer,
  type DeploymentState,
  type ModelRecord,
  type ModelVersion,
  type VersionStatus,
} from './types.js';

const DEPENDENCY = 'model registry';

/** A version item as the API shows it (versions registered before the lifecycle are PENDING). */
const versionOf = (item: Record<string, unknown>): ModelVersion => {
  const version = stripKeys<Omit<ModelVersion, 'status'> & { status: VersionStatus | 'READY' }>(item);
  return { ...version, status: version.status === 'READY' ? 'PENDING' : version.status };
};

/** Which versions a list keeps. */
export interface VersionFilter {
  readonly status?: VersionStatus;
  /** `key` or `key=value`. */
  readonly tag?: { readonly key: string; readonly value?: string };
  /** Keeps versions whose metric is at least `min`. */
  readonly metric?: { readonly name: string; readonly min: number };
}

/** A DynamoDB filter for a {@link VersionFilter}, or `undefined` when it keeps everything. */
function versionFilterExpression(filter: VersionFilter): ItemFilter | undefined {
  const parts: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (filter.status !== undefined) {
    names['#status'] = 'status';
    values[':status'] = filter.status;
    if (filter.status === 'PENDING') {
      values[':legacy'] = 'READY';
      parts.push('#status IN (:status, :legacy)');
    } else parts.push('#status = :status');
  }
  if (filter.tag !== undefined) {
    names['#tags'] = 'tags';
    names['#tag'] = filter.tag.key;
    if (filter.tag.value === undefined) parts.push('attribute_exists(#tags.#tag)');
    else {
      values[':tag'] = filter.tag.value;
      parts.push('#tags.#tag = :tag');
    }
  }
  if (filter.metric !== undefined) {
    names['#metrics'] = 'metrics';
    names['#metric'] = filter.metric.name;
    values[':min'] = filter.metric.min;
    parts.push('#metrics.#metric >= :min');
  }
  return parts.length === 0 ? undefined : { expression: parts.join(' AND '), names, values };
}

/** The alias a ledger entry leaves. */
const aliasOf = (entry: LedgerEntry): AliasRecord => ({
  model: entry.model,
  alias: entry.alias,
  routes: entry.to,
  requireApproved: entry.requireApproved ?? false,
  ...(entry.shadow === undefined ? {} : { shadow: entry.shadow }),
  ...(entry.fallback === undefined ? {} : { fallback: entry.fallback }),
  revision: entry.revision,
  updatedAt: entry.at,
  updatedBy: entry.by,
  reason: entry.reason,
});
/** Attempts at claiming the next version number when registrations race. */
const VERSION_CLAIM_ATTEMPTS = 8;

/** End of the alias range in a model's partition (`$` sorts right after `#`). */
const ALIAS_RANGE_END = `${ALIAS_PREFIX.slice(0, -1)}$`;

/** A model and its aliases by name. */
export interface ModelWithAliases {
  readonly model: ModelRecord;
  readonly aliases: ReadonlyMap<string, AliasRecord>;
}

/** A model to create. */
export interface NewModel {
  readonly name: string;
  readonly description?: string;
  readonly defaultAlias?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** A validated version to register; the registry assigns the number, the time and (for a SageMaker backend) the deployment. */
export type NewVersion = Omit<ModelVersion, 'version' | 'createdAt' | 'status' | 'deployment'>;

/** Deployment states with SageMaker resources to tear down: archiving, or deleting the deployment, moves them to DELETING. */
const TORN_DOWN_FROM: readonly DeploymentState[] = ['DEPLOYING', 'IN_SERVICE', 'FAILED'];

/**
 * The deployment to record when a caller asks for its teardown (archive, delete), or `undefined`
 * when it is torn down or being torn down already. A redeploy on its way (DELETING, then DEPLOYING
 * again) is called off: it stays DELETING, then DELETED.
 */
function teardownOf(deployment: Deployment | undefined, reason: string, at: string): Deployment | undefined {
  if (deployment === undefined) return undefined;
  if (!TORN_DOWN_FROM.includes(deployment.state) && !(deployment.state === 'DELETING' && deployment.redeploy === true)) return undefined;
  const { endpointName, inferenceComponentName } = deployment;
  return { state: 'DELETING', endpointName, ...(inferenceComponentName === undefined ? {} : { inferenceComponentName }), reason, updatedAt: at };
}

/** The condition that a version item's deployment is still `seen` (its state and last write): every deployment write is conditional on it. */
const DEPLOYMENT_UNCHANGED = '#deployment.#state = :seenState AND #deployment.#updatedAt = :seenAt';
const deploymentUnchangedNames = { '#state': 'state', '#updatedAt': 'updatedAt' };
const deploymentUnchangedValues = (seen: Deployment) => ({ ':seenState': seen.state, ':seenAt': seen.updatedAt });

/** Whether the `deployments` function has work to do for a deployment in this state (it is then in the index). */
export const isDeploymentInProgress = (state: DeploymentState): boolean => state === 'DEPLOYING' || state === 'DELETING';

/** The index attributes of a version item whose deployment is in progress (under `DEPLOYMENTS`). */
const deploymentIndexKeys = (model: string, version: number) => ({ gsi1pk: DEPLOYMENTS_GSI_PK, gsi1sk: `${model}#${versionSk(version)}` });

/** The update of a version item that records `to` as its deployment (kept in, or taken out of, the deployments index). */
function deploymentUpdate(model: string, version: number, to: Deployment): { set: string; remove: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names = { '#deployment': 'deployment', '#gsi1pk': 'gsi1pk', '#gsi1sk': 'gsi1sk' };
  if (!isDeploymentInProgress(to.state)) return { set: '#deployment = :deployment', remove: ' REMOVE #gsi1pk, #gsi1sk', names, values: { ':deployment': to } };
  const index = deploymentIndexKeys(model, version);
  return { set: '#deployment = :deployment, #gsi1pk = :gsi1pk, #gsi1sk = :gsi1sk', remove: '', names, values: { ':deployment': to, ':gsi1pk': index.gsi1pk, ':gsi1sk': index.gsi1sk } };
}

/** An alias change: who asked, why, and the revision the caller last saw (If-Match). */
export interface AliasChange {
  readonly routes: readonly AliasRoute[];
  /** Only APPROVED versions may be targeted (default: the alias's current setting, else false). */
  readonly requireApproved?: boolean;
  /** The shadow version: `null` removes it (default: the alias's current one). */
  readonly shadow?: AliasShadow | null;
  /** What answers while a picked version's backend cannot: `null` removes it (default: the alias's current one). */
  readonly fallback?: AliasFallback | null;
  /** Records the change as a rollback to this earlier revision's routes. */
  readonly restores?: number;
  readonly updatedBy: string;
  readonly reason: string;
  readonly expectedRevision?: number;
}

/**
 * The model registry on one DynamoDB table. Every write is a single-item
 * conditional write (no transactions), so it runs on DynamoDB and dynalite alike.
 */
export class ModelRegistry {
  private readonly table: RegistryTable;

  private readonly ledger: AliasLedger;

  constructor(
    table: RegistryTable,
    private readonly now: () => Date = () => new Date(),
    /** Where new versions, status changes and alias changes are announced. */
    private readonly events: RegistryEventSink = NO_EVENTS,
  ) {
    this.table = table.named(DEPENDENCY);
    this.ledger = new AliasLedger(this.table, now);
  }

  /** Creates a model; ConflictError if the name is taken. */
  async createModel(input: NewModel): Promise<ModelRecord> {
    const at = this.now().toISOString();
    const record: ModelRecord = {
      name: input.name,
      description: input.description ?? '',
      defaultAlias: input.defaultAlias ?? 'prod',
      tags: input.tags ?? {},
      createdAt: at,
      updatedAt: at,
    };
    try {
      await this.table.send(() =>
        this.table.db.send(
          new PutCommand({
            TableName: this.table.tableName,
            Item: { pk: modelPk(input.name), sk: MODEL_SK, gsi1pk: MODELS_GSI_PK, gsi1sk: input.name, type: 'MODEL', ...record },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new ConflictError(`model '${input.name}' already exists`);
      throw error;
    }
    return record;
  }

  /** Reads a model; NotFoundError if unknown. */
  async getModel(name: string): Promise<ModelRecord> {
    const model = await this.findModel(name);
    if (model === undefined) throw new NotFoundError(`model '${name}' not found`);
    return model;
  }

  /** Reads a model, or `undefined` if unknown. */
  async findModel(name: string): Promise<ModelRecord | undefined> {
    const item = await this.getItem(modelPk(name), MODEL_SK);
    return item === undefined ? undefined : stripKeys<ModelRecord>(item);
  }

  /** Lists models by name. */
  async listModels(page: PageRequest = {}): Promise<Page<ModelRecord>> {
    return this.table.queryPage<ModelRecord>(
      {
        IndexName: LIST_INDEX,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': MODELS_GSI_PK },
      },
      page,
      {
        [ATTR.pk]: (v) => v.startsWith('MODEL#'),
        [ATTR.sk]: (v) => v === MODEL_SK,
        [ATTR.gsi1pk]: (v) => v === MODELS_GSI_PK,
        [ATTR.gsi1sk]: () => true,
      },
    );
  }

  /**
   * Registers the next version of a model: reads the latest number and claims
   * `latest + 1` with a conditional put, retrying when another registration won
   * the race. Numbers are gap-free because nothing is claimed before the put.
   */
  async registerVersion(input: NewVersion, names?: DeploymentNamer): Promise<ModelVersion> {
    await this.getModel(input.model);
    for (let attempt = 0; attempt < VERSION_CLAIM_ATTEMPTS; attempt++) {
      const registered = await this.registerVersionAs(input, (await this.latestVersionNumber(input.model)) + 1, names);
      if (registered !== undefined) return registered;
      // Another registration took this number: back off a little (with jitter) and read again.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (attempt + 1)));
    }
    throw new ConflictError(`too many concurrent registrations for model '${input.model}'; retry`);
  }

  /**
   * Registers a version under exactly `version` (the caller read it from
   * {@link latestVersionNumber} + 1, e.g. to name the artifact after it);
   * `undefined` when another registration took that number first. A version on the SageMaker
   * backend starts DEPLOYING, under the SageMaker names `names` gives it (InvalidRequestError without them: the
   * platform has no SageMaker settings).
   */
  async registerVersionAs(input: NewVersion, version: number, names?: DeploymentNamer): Promise<ModelVersion | undefined> {
    const createdAt = this.now().toISOString();
    let deployment: Deployment | undefined;
    if (input.backend?.kind === 'sagemaker') {
      if (names === undefined) throw new InvalidRequestError('this platform has no SageMaker settings: register the version on the lambda backend');
      deployment = { state: 'DEPLOYING', ...names(input.model, version, input.backend), updatedAt: createdAt };
    }
    const record: ModelVersion = { ...input, version, status: 'PENDING', ...(deployment === undefined ? {} : { deployment }), createdAt };
    try {
      await this.table.send(() =>
        this.table.db.send(
          new PutCommand({
            TableName: this.table.tableName,
            Item: {
              pk: modelPk(input.model),
              sk: versionSk(record.version),
              type: 'VERSION',
              ...(deployment === undefined ? {} : deploymentIndexKeys(input.model, version)),
              ...record,
              metrics: toStorable(record.metrics),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      await this.events.publish({ type: 'ModelVersionRegistered', model: record.model, version: record.version, lineage: record.lineage });
      if (deployment !== undefined) await this.publishDeployment(record.model, version, undefined, deployment);
      return record;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Reads a version; NotFoundError if the model or version is unknown. */
  async getVersion(model: string, version: number): Promise<ModelVersion> {
    const item = await this.getItem(modelPk(model), versionSk(version));
    if (item === undefined) {
      await this.getModel(model);
      throw new NotFoundError(`model '${model}' has no version ${version}`);
    }
    return versionOf(item);
  }

  /**
   * Lists a model's versions, oldest first; `filter` keeps those that meet all its conditions
   * (status, tag, metric at least a value), applied by DynamoDB to each page, so pages may be short.
   */
  async listVersions(model: string, page: PageRequest = {}, filter: VersionFilter = {}): Promise<Page<ModelVersion>> {
    const found = await this.listModelItems<Record<string, unknown>>(model, VERSION_PREFIX, page, versionFilterExpression(filter));
    return { ...found, items: found.items.map(versionOf) };
  }

  /**
   * Moves a version along its lifecycle (`VERSION_TRANSITIONS`; ConflictError otherwise). A version an alias
   * routes to, shadows or names as its fallback cannot be archived (ConflictError naming the aliases).
   * Archiving a version on the SageMaker backend also moves its deployment to DELETING (unless it is
   * deleted or being deleted already): the `deployments` function then deletes its resources.
   */
  async setVersionStatus(model: string, version: number, change: { status: VersionStatus; by: string; reason: string }): Promise<ModelVersion> {
    const current = await this.getVersion(model, version);
    if (!VERSION_TRANSITIONS[current.status].includes(change.status)) {
      throw new ConflictError(`version ${version} of model '${model}' is ${current.status}; it cannot become ${change.status}`);
    }
    if (change.status === 'ARCHIVED') await this.assertNoAliasUses(model, version);
    const statusChange = { by: change.by, at: this.now().toISOString(), reason: change.reason };
    // Archiving tears the version's SageMaker deployment down (the `deployments` function deletes it), in the same write.
    const tornDown = change.status === 'ARCHIVED' ? teardownOf(current.deployment, `archived: ${change.reason || 'no reason given'}`, statusChange.at) : undefined;
    const update = tornDown === undefined ? undefined : deploymentUpdate(model, version, tornDown);
    try {
      await this.table.send(() =>
        this.table.db.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: { pk: modelPk(model), sk: versionSk(version) },
            UpdateExpression: `SET #status = :to, #statusChange = :change${update === undefined ? '' : `, ${update.set}${update.remove}`}`,
            // `READY` is how versions registered before the lifecycle are stored (PENDING); a
            // deployment torn down must still be the one that was read.
            ConditionExpression: `${current.status === 'PENDING' ? '#status IN (:from, :legacy)' : '#status = :from'}${update === undefined ? '' : ` AND ${DEPLOYMENT_UNCHANGED}`}`,
            ExpressionAttributeNames: {
              '#status': 'status',
              '#statusChange': 'statusChange',
              ...(update === undefined ? {} : { ...update.names, ...deploymentUnchangedNames }),
            },
            ExpressionAttributeValues: {
              ':to': change.status,
              ':change': statusChange,
              ':from': current.status,
              ...(current.status === 'PENDING' ? { ':legacy': 'READY' } : {}),
              ...(update === undefined || current.deployment === undefined ? {} : { ...update.values, ...deploymentUnchangedValues(current.deployment) }),
            },
          }),
        ),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new ConflictError(`version ${version} of model '${model}' changed status meanwhile; read it again`);
      throw error;
    }
    await this.events.publish({ type: 'VersionStatusChanged', model, version, from: current.status, to: change.status, by: change.by, reason: change.reason });
    if (tornDown !== undefined) await this.publishDeployment(model, version, current.deployment?.state, tornDown);
    return { ...current, status: change.status, statusChange, ...(tornDown === undefined ? {} : { deployment: tornDown }) };
  }

  /** ConflictError when an alias routes to the version, shadows it or names it as its fallback (it must not disappear under them). */
  private async assertNoAliasUses(model: string, version: number): Promise<void> {
    const aliases = [...((await this.findModelWithAliases(model))?.aliases.values() ?? [])];
    const routed = aliases.filter((a) => a.routes.some((r) => r.version === version) || a.shadow?.version === version);
    if (routed.length > 0) {
      throw new ConflictError(`version ${version} of model '${model}' serves (or shadows) alias(es) ${routed.map((a) => `'${a.alias}'`).join(', ')}; move them first`);
    }
    const standsIn = aliases.filter((a) => a.routes.length > 0 && a.fallback !== undefined && 'version' in a.fallback && a.fallback.version === version);
    if (standsIn.length > 0) {
      throw new ConflictError(`version ${version} of model '${model}' is the fallback of alias(es) ${standsIn.map((a) => `'${a.alias}'`).join(', ')}; change their fallback first`);
    }
  }

  /**
   * Deletes a version's SageMaker deployment without archiving the version: DEPLOYING, IN_SERVICE
   * or FAILED → DELETING (the `deployments` function deletes its resources, then DELETED). ConflictError
   * while an alias routes to the version, shadows it or names it as fallback, or when the version
   * is not on the SageMaker backend; a deployment already DELETING or DELETED is returned as it is
   * (a redeploy on its way is called off).
   */
  async deleteDeployment(model: string, version: number, change: { by: string; reason: string }): Promise<ModelVersion> {
    const current = await this.getVersion(model, version);
    const deployment = this.deploymentOf(current);
    const tornDown = teardownOf(deployment, `deleted by ${change.by}${change.reason === '' ? '' : `: ${change.reason}`}`, this.now().toISOString());
    if (tornDown === undefined) return current;
    await this.assertNoAliasUses(model, version);
    return this.requestDeployment(current, deployment, tornDown);
  }

  /**
   * Deploys a version's SageMaker backend again: a DELETED deployment → DEPLOYING; a FAILED one →
   * DELETING with `redeploy` (what the failed attempt left is deleted first, then it deploys).
   * ConflictError for an ARCHIVED version, a version not on the SageMaker backend, or a deployment that is
   * DEPLOYING, IN_SERVICE or DELETING.
   */
  async redeploy(model: string, version: number, change: { by: string; reason: string }): Promise<ModelVersion> {
    const current = await this.getVersion(model, version);
    const deployment = this.deploymentOf(current);
    if (current.status === 'ARCHIVED') throw new ConflictError(`version ${version} of model '${model}' is archived; it cannot be deployed`);
    const reason = `redeployed by ${change.by}${change.reason === '' ? '' : `: ${change.reason}`}`;
    const updatedAt = this.now().toISOString();
    if (deployment.state === 'DELETED') return this.requestDeployment(current, deployment, { ...deployment, state: 'DEPLOYING', reason, updatedAt });
    if (deployment.state === 'FAILED') return this.requestDeployment(current, deployment, { ...deployment, state: 'DELETING', reason, redeploy: true, updatedAt });
    throw new ConflictError(`the deployment of version ${version} of model '${model}' is ${deployment.state}; only a FAILED or DELETED deployment can be deployed again`);
  }

  /** A version's deployment; ConflictError for a version on the predict function (it has none). */
  private deploymentOf(version: ModelVersion): Deployment {
    if (version.deployment === undefined) {
      throw new ConflictError(`version ${version.version} of model '${version.model}' is served by the predict function; it has no SageMaker deployment`);
    }
    return version.deployment;
  }

  /** A change of deployment a caller asked for; ConflictError when the deployment moved since it was read. */
  private async requestDeployment(current: ModelVersion, from: Deployment, to: Deployment): Promise<ModelVersion> {
    if (!(await this.moveDeployment(current.model, current.version, from, to))) {
      throw new ConflictError(`the deployment of version ${current.version} of model '${current.model}' changed meanwhile; read it again`);
    }
    return { ...current, deployment: to };
  }

  /**
   * Records a version's deployment as `to`, on condition that it is still `from` (its state and
   * last write: one conditional update of the version item); `false` when it changed meanwhile
   * (another writer won). A change of state is announced (`DeploymentChanged`).
   */
  async moveDeployment(model: string, version: number, from: Deployment, to: Deployment): Promise<boolean> {
    const update = deploymentUpdate(model, version, to);
    try {
      await this.table.send(() =>
        this.table.db.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: { pk: modelPk(model), sk: versionSk(version) },
            UpdateExpression: `SET ${update.set}${update.remove}`,
            ConditionExpression: DEPLOYMENT_UNCHANGED,
            ExpressionAttributeNames: { ...update.names, ...deploymentUnchangedNames },
            ExpressionAttributeValues: { ...update.values, ...deploymentUnchangedValues(from) },
          }),
        ),
      );
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    if (from.state !== to.state) await this.publishDeployment(model, version, from.state, to);
    return true;
  }

  /** The versions whose deployment is in progress (DEPLOYING or DELETING), from the index (eventually consistent: read each again before acting). */
  async deploymentsInProgress(): Promise<ModelVersion[]> {
    const items = await this.table.queryAll({ IndexName: LIST_INDEX, KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': DEPLOYMENTS_GSI_PK } });
    return items.map(versionOf);
  }

  private publishDeployment(model: string, version: number, from: DeploymentState | undefined, to: Deployment): Promise<void> {
    return this.events.publish({
      type: 'DeploymentChanged',
      model,
      version,
      ...(from === undefined ? {} : { from }),
      to: to.state,
      endpointName: to.endpointName,
      ...(to.reason === undefined ? {} : { reason: to.reason }),
    });
  }

  /** Replaces a version's tags (its artifact, signature, metrics and lineage never change); NotFoundError if unknown. */
  async setVersionTags(model: string, version: number, tags: Readonly<Record<string, string>>): Promise<ModelVersion> {
    const current = await this.getVersion(model, version);
    await this.replaceTags(modelPk(model), versionSk(version), tags);
    return { ...current, tags };
  }

  /** Replaces a model's tags; NotFoundError if the model is unknown. */
  async setModelTags(name: string, tags: Readonly<Record<string, string>>): Promise<ModelRecord> {
    const current = await this.getModel(name);
    const updatedAt = this.now().toISOString();
    await this.replaceTags(modelPk(name), MODEL_SK, tags, updatedAt);
    return { ...current, tags, updatedAt };
  }

  /** Sets the tags of an item that exists (and its `updatedAt`, when given). */
  private async replaceTags(pk: string, sk: string, tags: Readonly<Record<string, string>>, updatedAt?: string): Promise<void> {
    await this.table.send(() =>
      this.table.db.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { pk, sk },
          UpdateExpression: updatedAt === undefined ? 'SET #tags = :tags' : 'SET #tags = :tags, #updatedAt = :updatedAt',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#tags': 'tags', ...(updatedAt === undefined ? {} : { '#updatedAt': 'updatedAt' }) },
          ExpressionAttributeValues: { ':tags': tags, ...(updatedAt === undefined ? {} : { ':updatedAt': updatedAt }) },
        }),
      ),
    );
  }

  /**
   * Points an alias at versions (weights summing to 100), recording the change in the alias's
   * ledger. With `expectedRevision` (0: the alias must not exist) the change only happens at that
   * revision (RevisionMismatchError otherwise, checked before anything else). Versions must exist (NotFoundError) and not be
   * archived (ConflictError); a shadow version as well, and it may not be one the alias routes to (InvalidRequestError; ConflictError
   * when the alias's current shadow is kept and the change routes to it). A fallback is checked by
   * {@link checkFallback}.
   */
  async setAlias(model: string, alias: string, change: AliasChange): Promise<AliasRecord> {
    const current = await this.findAliasItem(model, alias);
    const head = await this.ledger.head(model, alias, current);
    // The precondition first: a caller who read an old revision learns that before anything else.
    this.ledger.assertRevision(model, alias, head, change.expectedRevision);
    const requireApproved = change.requireApproved ?? current?.requireApproved ?? false;
    const kept = change.shadow === undefined && current?.routes.length !== 0 ? current?.shadow : undefined;
    const shadow = change.shadow === null ? undefined : (change.shadow ?? kept);
    await this.checkTargets(model, change.routes, requireApproved, alias);
    if (kept !== undefined && change.routes.some((r) => r.version === kept.version)) {
      throw new ConflictError(
        `version ${kept.version} is the shadow of alias '${alias}' of model '${model}'; to route traffic to it, end the shadow in the same change ("shadow": null) or name another shadow version`,
      );
    }
    if (shadow !== undefined) await this.checkShadow(model, change.routes, shadow, alias);
    const fallback = change.fallback === null ? undefined : (change.fallback ?? (current?.routes.length !== 0 ? current?.fallback : undefined));
    if (fallback !== undefined) await checkFallback(this.fallbackReader, model, alias, fallback, change.routes, requireApproved);
    await checkFallbackDependents(this.fallbackReader, model, alias, change.routes);
    const entry = await this.appendAlias(
      model,
      alias,
      {
        kind: change.restores === undefined ? 'set' : 'rollback',
        ...(change.restores === undefined ? {} : { restoredRevision: change.restores }),
        to: change.routes,
        requireApproved,
        ...(shadow === undefined ? {} : { shadow }),
        ...(fallback === undefined ? {} : { fallback }),
        by: change.updatedBy,
        reason: change.reason,
        ...(change.expectedRevision === undefined ? {} : { expectedRevision: change.expectedRevision }),
      },
      head,
    );
    return aliasOf(entry);
  }

  /**
   * Points an alias back at the routes of an earlier ledger entry: the one before the current
   * revision, or `toRevision`. The rollback is itself a recorded change, made only at
   * `expectedRevision` (RevisionMismatchError otherwise), so a retried rollback never flips the alias back.
   */
  async rollbackAlias(model: string, alias: string, request: { toRevision?: number; by: string; reason: string; expectedRevision: number }): Promise<AliasRecord> {
    const current = await this.getAlias(model, alias);
    this.ledger.assertRevision(model, alias, current, request.expectedRevision);
    if (request.toRevision === undefined && current.revision === 1) {
      throw new ConflictError(`alias '${alias}' of model '${model}' is at its first revision: there is no earlier one to roll back to`);
    }
    const target = request.toRevision ?? current.revision - 1;
    const restored = target >= 1 && target <= current.revision ? await this.ledger.entry(model, alias, target) : undefined;
    if (restored === undefined) throw new NotFoundError(`alias '${alias}' of model '${model}' has no ledger entry ${target} to roll back to`);
    if (restored.to.length === 0) throw new ConflictError(`ledger entry ${target} of alias '${alias}' deleted the alias; roll back to an entry that routed traffic`);
    const requireApproved = current.requireApproved ?? false;
    await this.checkTargets(model, restored.to, requireApproved, alias);
    await checkFallbackDependents(this.fallbackReader, model, alias, restored.to);
    // The shadow stays as it is, unless the restored routes now serve it.
    const shadow = current.shadow !== undefined && !restored.to.some((r) => r.version === current.shadow?.version) ? current.shadow : undefined;
    const entry = await this.appendAlias(
      model,
      alias,
      {
        kind: 'rollback',
        to: restored.to,
        requireApproved,
        ...(shadow === undefined ? {} : { shadow }),
        // The fallback stays as it is: it does not depend on the routes.
        ...(current.fallback === undefined ? {} : { fallback: current.fallback }),
        by: request.by,
        reason: request.reason === '' ? `rollback to revision ${target}` : request.reason,
        restoredRevision: target,
        expectedRevision: request.expectedRevision,
      },
      current,
    );
    return aliasOf(entry);
  }

  /** An alias's ledger, newest first (a deleted alias keeps its ledger); NotFoundError if the model or the alias never existed. */
  async listAliasLedger(model: string, alias: string, page: PageRequest = {}): Promise<Page<LedgerEntry>> {
    await this.getModel(model);
    const listed = await this.ledger.list(model, alias, page);
    // Every alias that ever existed has a first ledger entry.
    if (listed.items.length === 0 && page.cursor === undefined) throw new NotFoundError(`model '${model}' has no alias '${alias}'`);
    return listed;
  }

  /** Appends an alias change to its ledger and announces it. */
  private async appendAlias(model: string, alias: string, change: LedgerChange, head: AliasHead): Promise<LedgerEntry> {
    const entry = await this.ledger.append(model, alias, change, head);
    const { revision, kind, from, to, by, reason } = entry;
    await this.events.publish({ type: 'AliasChanged', model, alias, revision, kind, from, to, by, reason });
    return entry;
  }

  /** Versions an alias may route to: they exist (NotFoundError), are not archived, and are APPROVED where the alias requires it (ConflictError). */
  private async checkTargets(model: string, routes: readonly AliasRoute[], requireApproved: boolean, alias: string): Promise<void> {
    const versions = await Promise.all(routes.map((route) => this.getVersion(model, route.version)));
    const archived = versions.find((v) => v.status === 'ARCHIVED');
    if (archived !== undefined) throw new ConflictError(`version ${archived.version} of model '${model}' is archived; an alias cannot route traffic to it`);
    const unapproved = requireApproved ? versions.find((v) => v.status !== 'APPROVED') : undefined;
    if (unapproved !== undefined) {
      throw new ConflictError(`alias '${alias}' only routes to APPROVED versions; version ${unapproved.version} of model '${model}' is ${unapproved.status}`);
    }
  }

  /** A shadow version exists, is not archived (ConflictError) and is not one the alias routes to (InvalidRequestError). */
  private async checkShadow(model: string, routes: readonly AliasRoute[], shadow: AliasShadow, alias: string): Promise<void> {
    if (routes.some((r) => r.version === shadow.version)) {
      throw new InvalidRequestError(`version ${shadow.version} already serves alias '${alias}'; a shadow version must be another one`);
    }
    const version = await this.getVersion(model, shadow.version);
    if (version.status === 'ARCHIVED') throw new ConflictError(`version ${shadow.version} of model '${model}' is archived; it cannot shadow an alias`);
  }

  /** What the fallback rules read. */
  private readonly fallbackReader: FallbackReader = {
    getVersion: (model, version) => this.getVersion(model, version),
    findAliasItem: (model, alias) => this.findAliasItem(model, alias),
    aliasesOf: async (model) => [...((await this.findModelWithAliases(model))?.aliases.values() ?? [])],
  };

  /** The alias item as stored (a deleted alias keeps its item, with no routes, so revisions continue). */
  private async findAliasItem(model: string, alias: string): Promise<AliasRecord | undefined> {
    const item = await this.getItem(modelPk(model), aliasSk(alias));
    return item === undefined ? undefined : stripKeys<AliasRecord>(item);
  }

  /**
   * Reads an alias; NotFoundError if the model or alias is unknown. A change whose writer died before it
   * reached the alias item is brought forward here.
   */
  async getAlias(model: string, alias: string): Promise<AliasRecord> {
    const [item, latest] = await Promise.all([this.findAliasItem(model, alias), this.ledger.latest(model, alias)]);
    let found = item;
    if (latest !== undefined && latest.revision > (item?.revision ?? 0)) {
      await this.ledger.materialise(latest);
      found = aliasOf(latest);
    }
    if (found === undefined || found.routes.length === 0) {
      await this.getModel(model);
      throw new NotFoundError(`model '${model}' has no alias '${alias}'`);
    }
    return found;
  }

  /** Reads an alias, or `undefined` if it does not exist. */
  async findAlias(model: string, alias: string): Promise<AliasRecord | undefined> {
    const item = await this.findAliasItem(model, alias);
    return item === undefined || item.routes.length === 0 ? undefined : item;
  }

  /**
   * A model with all its aliases, in one query (the model item sorts first in its
   * partition, then the aliases, then the versions), or `undefined` if unknown.
   * Serving resolves any request with this read plus one version read.
   */
  async findModelWithAliases(name: string): Promise<ModelWithAliases | undefined> {
    // '#MODEL' < 'ALIAS#…' < 'ALIAS$' < 'VERSION#…'
    const items = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk AND sk < :end',
      ExpressionAttributeValues: { ':pk': modelPk(name), ':end': ALIAS_RANGE_END },
      ConsistentRead: true,
    });
    const modelItem = items.find((item) => item[ATTR.sk] === MODEL_SK);
    if (modelItem === undefined) return undefined;
    const aliases = items
      .filter((item) => item[ATTR.sk] !== MODEL_SK)
      .map((item) => stripKeys<AliasRecord>(item))
      .filter((alias) => alias.routes.length > 0);
    return { model: stripKeys<ModelRecord>(modelItem), aliases: new Map(aliases.map((a) => [a.alias, a])) };
  }

  /** Lists a model's aliases by name (deleted ones are left out). */
  async listAliases(model: string, page: PageRequest = {}): Promise<Page<AliasRecord>> {
    const found = await this.listModelItems<AliasRecord>(model, ALIAS_PREFIX, page);
    return { ...found, items: found.items.filter((alias) => alias.routes.length > 0) };
  }

  /**
   * Deletes an alias: a recorded change to no routes (NotFoundError if absent; RevisionMismatchError if `expectedRevision`
   * does not match; ConflictError while another alias names it as its fallback). Its revisions continue if it is created again.
   */
  async deleteAlias(model: string, alias: string, change: { by: string; reason: string; expectedRevision?: number }): Promise<void> {
    const current = await this.getAlias(model, alias);
    this.ledger.assertRevision(model, alias, current, change.expectedRevision);
    await checkFallbackDependents(this.fallbackReader, model, alias, []);
    await this.appendAlias(
      model,
      alias,
      { kind: 'delete', to: [], by: change.by, reason: change.reason, ...(change.expectedRevision === undefined ? {} : { expectedRevision: change.expectedRevision }) },
      current,
    );
  }

  /** A page of one kind of item (sort-key prefix) in a model's partition; NotFoundError if the model is unknown. */
  private async listModelItems<T>(model: string, prefix: string, page: PageRequest, filter?: ItemFilter): Promise<Page<T>> {
    await this.getModel(model);
    return this.table.pageByPrefix<T>({ pk: modelPk(model), prefix, ...(filter === undefined ? {} : { filter }) }, page);
  }

  /**
   * The numbers of a model's versions that are not ARCHIVED (those a request may name), lowest
   * first, read in one query that returns only the numbers.
   */
  async servableVersionNumbers(model: string): Promise<number[]> {
    const items = await this.table.allByPrefix(
      {
        pk: modelPk(model),
        prefix: VERSION_PREFIX,
        filter: { expression: '#status <> :archived', names: { '#status': 'status' }, values: { ':archived': 'ARCHIVED' satisfies VersionStatus } },
      },
      { '#version': 'version' },
    );
    return items.map((item) => Number(item['version']));
  }

  /** The highest version number of a model (0 when it has none). */
  latestVersionNumber(model: string): Promise<number> {
    return this.table.latestNumber(modelPk(model), VERSION_PREFIX, 'version');
  }

  private getItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    return this.table.getItem(pk, sk);
  }
}
