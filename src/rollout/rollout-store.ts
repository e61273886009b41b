/**
 * Rollouts in the registry table: one item per alias holds its current (or last) rollout, in the
 * model's partition; active rollouts are also in the `gsi1` index under `ROLLOUTS`, which the
 * scheduled advancer lists (the index entry is removed when the rollout ends).
 *
 * | item    | pk             | sk                 | gsi1pk (while active) | gsi1sk            |
 * | ------- | -------------- | ------------------ | --------------------- | ----------------- |
 * | rollout | `MODEL#<name>` | `ROLLOUT#<alias>`  | `ROLLOUTS`            | `<model>#<alias>` |
 *
 * Every write is conditional: a new rollout only replaces one that is over (ConflictError otherwise), and
 * a change only applies at the revision it was computed from (so the advancer and API calls
 * never overwrite each other).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../errors.js';
import { modelPk } from '../registry/keys.js';
import { isConditionFailure, LIST_INDEX, stripKeys, type RegistryTable } from '../storage/table.js';
import { FINISHED_STATES, type Rollout } from './rollout.js';

const ROLLOUTS_GSI_PK = 'ROLLOUTS';
const rolloutSk = (alias: string): string => `ROLLOUT#${alias}`;

/** The item of a rollout: indexed while active. */
function itemOf(rollout: Rollout): Record<string, unknown> {
  const active = !FINISHED_STATES.includes(rollout.state);
  return {
    pk: modelPk(rollout.model),
    sk: rolloutSk(rollout.alias),
    type: 'ROLLOUT',
    ...(active ? { gsi1pk: ROLLOUTS_GSI_PK, gsi1sk: `${rollout.model}#${rollout.alias}` } : {}),
    ...rollout,
  };
}

/** Rollouts on the registry table. */
export class RolloutStore {
  private readonly table: RegistryTable;

  constructor(table: RegistryTable) {
    this.table = table.named('rollouts');
  }

  /** The alias's current or last rollout, if it ever had one. */
  async find(model: string, alias: string): Promise<Rollout | undefined> {
    const item = await this.table.getItem(modelPk(model), rolloutSk(alias));
    return item === undefined ? undefined : stripKeys<Rollout>(item);
  }

  /** Records a new rollout; ConflictError if the alias has an active one. */
  async create(rollout: Rollout): Promise<void> {
    try {
      await this.put(rollout, 'attribute_not_exists(pk) OR #state IN (:s0, :s1, :s2)', { '#state': 'state' }, { ':s0': FINISHED_STATES[0], ':s1': FINISHED_STATES[1], ':s2': FINISHED_STATES[2] });
    } catch (error) {
      if (isConditionFailure(error)) throw new ConflictError(`alias '${rollout.alias}' of model '${rollout.model}' has an active rollout; pause, abort or finish it first`);
      throw error;
    }
  }

  /**
   * Saves a rollout computed from revision `next.revision - 1`; `false` when another change
   * got there first (nothing is written).
   */
  async update(next: Rollout): Promise<boolean> {
    try {
      await this.put(next, '#revision = :expected', { '#revision': 'revision' }, { ':expected': next.revision - 1 });
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Every active (running or paused) rollout. */
  async listActive(): Promise<Rollout[]> {
    const items = await this.table.queryAll({ IndexName: LIST_INDEX, KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': ROLLOUTS_GSI_PK } });
    return items.map((item) => stripKeys<Rollout>(item));
  }

  private async put(rollout: Rollout, condition: string, names: Record<string, string>, values: Record<string, unknown>): Promise<void> {
    await this.table.send(() =>
      this.table.db.send(
        new PutCommand({ TableName: this.table.tableName, Item: itemOf(rollout), ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values }),
      ),
    );
  }
}
