/**
 * Registry events, so users can hook their own automation (notify a channel when an alias
 * moves, start an evaluation when a version lands): every new version, status change, alias
 * change and deployment state change (and, from the rollout context, every rollout change) is published after its write succeeded. In AWS they go to the platform's EventBridge
 * bus (source `serverless-ai-platform.registry`, detail-type = the event's `type`); they are
 * always logged as well. Publishing never fails the change it reports: the ledger and the
 * version items remain the record, and a failed publish is reported to `onError`.
 */
import type { LedgerEntry } from './alias-ledger.js';
import type { DeploymentState, VersionStatus } from './types.js';

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
  | {
      /** A SageMaker-backed version's deployment moved (DEPLOYING → IN_SERVICE, → FAILED with SageMaker's reason, → DELETING …). */
      readonly type: 'DeploymentChanged';
      readonly model: string;
      readonly version: number;
      /** The state before (absent when the version was registered with its deployment). */
      readonly from?: DeploymentState;
      readonly to: DeploymentState;
      readonly endpointName: string;
      readonly reason?: string;
    };

/** Any event of the platform: `type` becomes the EventBridge detail-type. Other contexts add their own (rollouts: `RolloutChanged`). */
export interface PlatformEvent {
  readonly type: string;
}

/** Where events go. `publish` never throws. */
export interface EventSink<E extends PlatformEvent> {
  publish(event: E): Promise<void>;
}

/** Where registry events go. */
export type RegistryEventSink = EventSink<RegistryEvent>;

/** A sink that drops events (tests, tools). */
export const NO_EVENTS: EventSink<PlatformEvent> = { publish: async () => {} };

/** Every sink gets every event. */
export function allSinks<E extends PlatformEvent>(...sinks: readonly EventSink<E>[]): EventSink<E> {
  return { publish: async (event) => void (await Promise.all(sinks.map((sink) => sink.publish(event)))) };
}


/**
 * A sink made on first use: `make` runs at the first event (and once only), so a function whose
 * events are rare (the predict function's breaker transitions) loads its event client then, not
 * at every cold start.
 */
export function lazySink<E extends PlatformEvent>(make: () => Promise<EventSink<E>>): EventSink<E> {
  let sink: Promise<EventSink<E>> | undefined;
  return { publish: async (event) => (await (sink ??= make())).publish(event) };
}
