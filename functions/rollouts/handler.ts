/**
 * Rollouts function: runs on a schedule (EventBridge every minute in AWS, a timer in the local
 * cloud) and moves each active rollout a step forward, or back when a guard trips (src/rollout).
 */
import { createAwsClients } from '../../src/aws/clients.js';
import { loadRegistryConfig } from '../../src/config.js';
import { createScheduledHandler } from '../../src/runtime/handler-stack.js';
import { createObservability } from '../../src/runtime/observability.js';
import { registryEventSink } from '../../src/registry/event-bridge-sink.js';
import { ModelRegistry } from '../../src/registry/registry.js';
import { RegistryTable } from '../../src/storage/table.js';
import { rolloutsOnTable } from '../../src/rollout/rollouts.js';

const config = loadRegistryConfig();
const observability = createObservability('rollouts');
const { logger } = observability;
const clients = createAwsClients();
const table = new RegistryTable(clients.dynamo, config.registryTable);
const events = registryEventSink(logger, config.registryEventBus);
const rollouts = rolloutsOnTable(
  table,
  new ModelRegistry(table, undefined, events),
  events,
);

/** Lambda entry point. */
export const handler = createScheduledHandler(observability, async () => {
  const changed = await rollouts.advanceAll((rollout, error) => logger.error('rollout check failed; retried at the next run', { rollout: rollout.id, error: error as Error }));
  for (const rollout of changed) logger.info('rollout changed', { rollout: rollout.id, state: rollout.state, step: rollout.step, check: rollout.lastCheck });
  return { changed: changed.length };
});
