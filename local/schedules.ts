/**
 * Scheduled functions in the local cloud: what an EventBridge schedule does in AWS, with a timer.
 * A run starts every `intervalMs`; a run still going when the next is due makes the next one
 * skip. (In AWS runs may overlap: scheduled functions must be safe when they do, as the
 * rollout advancer's conditional writes are.)
 */
import type { FunctionSpec } from '../topology/spec.js';

/** Timers that invoke the scheduled functions; `stop` waits for runs in flight. */
export interface LocalSchedules {
  stop(): Promise<void>;
}

/** A scheduled event as EventBridge delivers it. */
function scheduledEvent(spec: FunctionSpec, at: Date) {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: at.toISOString(),
    region: 'local',
    resources: [`local:rule/${spec.id}-schedule`],
    detail: {},
  };
}

/** Starts a timer for each function that has a schedule. */
export function startSchedules(
  functions: readonly FunctionSpec[],
  intervalMs: number,
  invoke: (functionId: string, event: unknown) => Promise<unknown>,
  onError: (functionId: string, error: unknown) => void,
): LocalSchedules {
  const running = new Map<string, Promise<void>>();
  const timers = functions
    .filter((spec) => spec.schedule !== undefined)
    .map((spec) =>
      setInterval(() => {
        if (running.has(spec.id)) return;
        const run = invoke(spec.id, scheduledEvent(spec, new Date()))
          .then(() => undefined)
          .catch((error: unknown) => onError(spec.id, error))
          .finally(() => running.delete(spec.id));
        running.set(spec.id, run);
      }, intervalMs),
    );
  return {
    stop: async () => {
      timers.forEach(clearInterval);
      await Promise.all(running.values());
    },
  };
}
