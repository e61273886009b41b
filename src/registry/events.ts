/**
 * Registry events, so users can hook their own automation (notify a channel when an alias
 * moves, start an evaluation when a version lands): every new version, status change and alias
 * change is published after its write succeeded. In AWS they go to the platform's EventBridge
 * bus (source `serverless-ai-platform.registry`, detail-type = the event's `type`); they are
 * always logged as well. Publishing never fails the change it reports: the ledger and the
 * version items remain the record, and a failed publish is reported to `onError`.
 */
import type { LedgerEntry } from './alias-ledger.js';
import type { Rollout } from '../rollout/rollout.js';
import type { VersionStatus } from './types.js';

/** The `source` of every registry event on the bus. */
export const EVENT_SOURCE = 'serverless-ai-platform.registry';

/** Something that happened in the registry. */
export type RegistryEvent =
  | { readonly type: 'ModelVersionRegistered'; readonly model: string; readonly version: number; readonly lineage: Readonly<Record<string, string>> }
  | {
      readonly type: 'VersionStatusChanged';
      readonly model: string;
      readonly version: number;
      readonly from: VersionStatus;
      readonly to: VersionStatus;
      readonly by: string;
      readonly reason: string;
    }
  | ({ readonly type: 'AliasChanged' } & Pick<LedgerEntry, 'model' | 'alias' | 'revision' | 'kind' | 'from' | 'to' | 'by' | 'reason'>)
  | ({
      readonly type: 'RolloutChanged';
      /** What happened: the rollout started, moved to its next step, finished, or was paused, resumed, rolled back or aborted. */
      readonly action: RolloutAction;
      /** The candidate's share of traffic after the change. */
      readonly percent: number;
      readonly by: string;
      readonly reason: string;
    } & Pick<Rollout, 'model' | 'alias' | 'id' | 'baseline' | 'candidate' | 'state' | 'step'>);

/** What a rollout event reports. */
export type RolloutAction = 'started' | 'advanced' | 'succeeded' | 'paused' | 'resumed' | 'rolledBack' | 'aborted';

/** Where registry events go. `publish` never throws. */
export interface RegistryEventSink {
  publish(event: RegistryEvent): Promise<void>;
}

/** A sink that drops events (tests, tools). */
export const NO_EVENTS: RegistryEventSink = { publish: async () => {} };

/** Every sink gets every event. */
export function allSinks(...sinks: readonly RegistryEventSink[]): RegistryEventSink {
  return { publish: async (event) => void (await Promise.all(sinks.map((sink) => sink.publish(event)))) };
}

