/**
 * Registry events to EventBridge (kept apart from `events.ts` so the predict function's bundle,
 * which only reads the registry, does not carry the EventBridge client).
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { allSinks, EVENT_SOURCE, type RegistryEvent, type RegistryEventSink } from './events.js';

/** Publishes to an EventBridge bus; failures go to `onError`. */
export function eventBridgeSink(client: EventBridgeClient, busName: string, onError: (error: unknown, event: RegistryEvent) => void): RegistryEventSink {
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

/** How a function reports registry events: to its log, and to the bus when one is configured. */
export function registryEventSink(options: {
  readonly log: (message: string, attributes: Record<string, unknown>) => void;
  readonly logError: (message: string, attributes: Record<string, unknown>) => void;
  /** The platform's event bus (`REGISTRY_EVENT_BUS`); without one, events are only logged. */
  readonly busName?: string;
}): RegistryEventSink {
  const logged: RegistryEventSink = { publish: async (event) => options.log('registry event', { event }) };
  if (options.busName === undefined) return logged;
  const bus = eventBridgeSink(new EventBridgeClient({ maxAttempts: 3 }), options.busName, (error, event) =>
    options.logError('registry event not published', { event, error: (error as Error).message }),
  );
  return allSinks(logged, bus);
}
