/**
 * Aliases as an append-only ledger. Every change of an alias is an entry keyed by the alias's
 * next revision, written with `attribute_not_exists`: of any number of writers that saw the same
 * revision, exactly one appends, and no entry is ever lost, duplicated or rewritten. The alias
 * item that serving reads is then brought to the entry (a conditional update that never moves
 * it back); if a writer dies between the two writes, the next read or change through the
 * control plane brings it forward.
 *
 * | item         | pk             | sk                                   |
 * | ------------ | -------------- | ------------------------------------ |
 * | ledger entry | `MODEL#<name>` | `LEDGER#<alias>#<10-digit revision>` |
 *
 * (`LEDGER#` sorts after `ALIAS$`, so serving's one-query read of a model never loads it.)
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { RevisionMismatchError } from '../errors.js';
import { isConditionFailure, stripKeys, type Page, type PageRequest, type RegistryTable } from '../storage/table.js';
import { aliasSk, modelPk } from './keys.js';
import type { AliasFallback, AliasRecord, AliasRoute, AliasShadow } from './types.js';

const ledgerPrefix = (alias: string): string => `LEDGER#${alias}#`;
const ledgerSk = (alias: string, revision: number): string => `${ledgerPrefix(alias)}${String(revision).padStart(10, '0')}`;

/** A `REMOVE` clause for the attributes named (none: no clause). */
const removed = (names: readonly (string | undefined)[]): string => {
  const present = names.filter((name) => name !== undefined);
  return present.length === 0 ? '' : ` REMOVE ${present.join(', ')}`;
};

/** What kind of change an entry records. */
export type LedgerChangeKind = 'set' | 'delete' | 'rollback';

/** Where an alias stands: its revision and the routes it has at that revision. */
export interface AliasHead {
  readonly revision: number;
  readonly routes: readonly AliasRoute[];
}

/** One recorded change of an alias. */
export interface LedgerEntry {
  readonly model: string;
  readonly alias: string;
  /** The alias's revision after this change (1, 2, 3… per alias, never reused). */
  readonly revision: number;
  readonly kind: LedgerChangeKind;
  /** Routes before the change (`[]`: the alias did not exist or was deleted). */
  readonly from: readonly AliasRoute[];
  /** Routes after the change (`[]`: deleted). */
  readonly to: readonly AliasRoute[];
  /** Whether the alias only routes to APPROVED versions after the change. */
  readonly requireApproved?: boolean;
  /** The alias's shadow version after the change, if any. */
  readonly shadow?: AliasShadow;
  /** The alias's fallback after the change, if any. */
  readonly fallback?: AliasFallback;
  /** Who: the caller's identity (IAM ARN, API key id, or the training job). */
  readonly by: string;
  readonly reason: string;
  readonly at: string;
  /** For a rollback: the entry whose routes were restored. */
  readonly restoredRevision?: number;
}

/** A change to append. */
export interface LedgerChange {
  readonly kind: LedgerChangeKind;
  readonly to: readonly AliasRoute[];
  readonly requireApproved?: boolean;
  readonly shadow?: AliasShadow;
  readonly fallback?: AliasFallback;
  readonly by: string;
  readonly reason: string;
  /**
   * The revision the caller last saw (`If-Match`); 0 for an alias that does not exist (or was
   * deleted). Without it the change applies to whatever revision is current.
   */
  readonly expectedRevision?: number;
  readonly restoredRevision?: number;
}

/** The ledger of a model's aliases on the registry table. */
export class AliasLedger {
  constructor(
    private readonly table: RegistryTable,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The newest entry of an alias, or `undefined` when it has none. */
  async latest(model: string, alias: string): Promise<LedgerEntry | undefined> {
    const item = await this.table.firstByPrefix({ pk: modelPk(model), prefix: ledgerPrefix(alias), newestFirst: true });
    return item === undefined ? undefined : stripKeys<LedgerEntry>(item);
  }

  /** One entry; `undefined` when there is none with that revision. */
  async entry(model: string, alias: string, revision: number): Promise<LedgerEntry | undefined> {
    const item = await this.table.getItem(modelPk(model), ledgerSk(alias, revision));
    return item === undefined ? undefined : stripKeys<LedgerEntry>(item);
  }

  /** An alias's entries, newest first. */
  list(model: string, alias: string, page: PageRequest = {}): Promise<Page<LedgerEntry>> {
    return this.table.pageByPrefix<LedgerEntry>({ pk: modelPk(model), prefix: ledgerPrefix(alias), newestFirst: true }, page);
  }

  /**
   * Where an alias stands: the revision and routes of its latest ledger entry, or of its item
   * when that is further (aliases older than the ledger).
   *
   * @param current - The alias item as read before.
   */
  async head(model: string, alias: string, current: AliasRecord | undefined): Promise<AliasHead> {
    const latest = await this.latest(model, alias);
    const revision = Math.max(latest?.revision ?? 0, current?.revision ?? 0);
    const routes = latest !== undefined && latest.revision >= (current?.revision ?? 0) ? latest.to : (current?.routes ?? []);
    return { revision, routes };
  }

  /** RevisionMismatchError unless `expectedRevision` (when given) is the head's revision; `0` also matches a deleted alias (no routes). */
  assertRevision(model: string, alias: string, head: AliasHead, expectedRevision: number | undefined): void {
    // A deleted alias (no routes) may be re-created as if it never existed.
    const seen = expectedRevision === 0 && head.routes.length === 0 ? head.revision : expectedRevision;
    if (seen !== undefined && seen !== head.revision) {
      throw new RevisionMismatchError(`alias '${alias}' of model '${model}' is at revision ${head.revision}, not ${expectedRevision}; read it again and retry`);
    }
  }

  /**
   * Appends a change and brings the alias item to it. RevisionMismatchError when `expectedRevision` is not the
   * head's revision, or when another writer appended after the head was read.
   *
   * @param head - Where the alias stood when read ({@link head}, or an alias as `getAlias` reads it).
   */
  async append(model: string, alias: string, change: LedgerChange, head: AliasHead): Promise<LedgerEntry> {
    this.assertRevision(model, alias, head, change.expectedRevision);
    const { revision, routes } = head;
    const entry: LedgerEntry = {
      model,
      alias,
      revision: revision + 1,
      kind: change.kind,
      from: routes,
      to: change.to,
      ...(change.requireApproved === undefined ? {} : { requireApproved: change.requireApproved }),
      ...(change.shadow === undefined ? {} : { shadow: change.shadow }),
      ...(change.fallback === undefined ? {} : { fallback: change.fallback }),
      by: change.by,
      reason: change.reason,
      at: this.now().toISOString(),
      ...(change.restoredRevision === undefined ? {} : { restoredRevision: change.restoredRevision }),
    };
    try {
      await this.table.send(() =>
        this.table.db.send(
          new PutCommand({
            TableName: this.table.tableName,
            Item: { pk: modelPk(model), sk: ledgerSk(alias, entry.revision), type: 'LEDGER', ...entry },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new RevisionMismatchError(`alias '${alias}' of model '${model}' changed meanwhile (revision ${entry.revision} was taken); read it again and retry`);
      throw error;
    }
    await this.materialise(entry);
    return entry;
  }

  /** Brings the alias item to `entry` unless it is already there or further (never moves it back). */
  async materialise(entry: LedgerEntry): Promise<void> {
    try {
      await this.table.send(() =>
        this.table.db.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: { pk: modelPk(entry.model), sk: aliasSk(entry.alias) },
            UpdateExpression:
              'SET #type = :type, #model = :model, #alias = :alias, #routes = :routes, #requireApproved = :requireApproved, #revision = :revision, #updatedAt = :at, #updatedBy = :by, #reason = :reason' +
              (entry.shadow === undefined ? '' : ', #shadow = :shadow') +
              (entry.fallback === undefined ? '' : ', #fallback = :fallback') +
              removed([entry.shadow === undefined ? '#shadow' : undefined, entry.fallback === undefined ? '#fallback' : undefined]),
            ConditionExpression: 'attribute_not_exists(pk) OR #revision < :revision',
            ExpressionAttributeNames: {
              '#type': 'type',
              '#model': 'model',
              '#alias': 'alias',
              '#routes': 'routes',
              '#requireApproved': 'requireApproved',
              '#revision': 'revision',
              '#updatedAt': 'updatedAt',
              '#updatedBy': 'updatedBy',
              '#reason': 'reason',
              '#shadow': 'shadow',
              '#fallback': 'fallback',
            },
            ExpressionAttributeValues: {
              ':type': 'ALIAS',
              ':model': entry.model,
              ':alias': entry.alias,
              ':routes': entry.to,
              ':requireApproved': entry.requireApproved ?? false,
              ':revision': entry.revision,
              ':at': entry.at,
              ':by': entry.by,
              ':reason': entry.reason,
              ...(entry.shadow === undefined ? {} : { ':shadow': entry.shadow }),
              ...(entry.fallback === undefined ? {} : { ':fallback': entry.fallback }),
            },
          }),
        ),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // a newer entry is already materialised
    }
  }
}
