/**
 * Registry events to EventBridge (kept apart from `events.ts` so the predict function's bundle,
 * which only reads the registry, does not carry the EventBridge client).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { allSinks, EVENT_SOURCE, type EventSink, type PlatformEvent } from './events.js';

/** Publishes to an EventBridge bus; failures go to `onError`. */
export function eventBridgeSink(client: EventBridgeClient, busName: string, onError: (error: unknown, event: PlatformEvent) => void): EventSink<PlatformEvent> {
  return {
    publish: async (event) => {
      try {
        const result = await client.send(
          new PutEventsCommand({ Entries: [{ EventBusName: busName, Source: EVENT_SOURCE, DetailType: event.type, Detail: JSON.stringify(event) }] }),
        );
        if ((result.FailedEntryCount ?? 0) > 0) throw new Error(`EventBridge refused the event: ${result.Entries?.[0]?.ErrorMessage ?? 'unknown error'}`);
      } catch (error) {
        onError(error, event);
      }
    },
  };
}

/** How a function reports registry events: to its log, and to the bus when one is configured (`REGISTRY_EVENT_BUS`). */
export function registryEventSink(logger: Pick<Logger, 'info' | 'error'>, busName: string | undefined): EventSink<PlatformEvent> {
  const logged: EventSink<PlatformEvent> = { publish: async (event) => logger.info('registry event', { event }) };
  if (busName === undefined) return logged;
  const bus = eventBridgeSink(new EventBridgeClient({ maxAttempts: 3 }), busName, (error, event) =>
    logger.error('registry event not published', { event, error: (error as Error).message }),
  );
  return allSinks(logged, bus);
}
