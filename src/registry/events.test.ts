import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { eventBridgeSink } from './event-bridge-sink.js';
import { EVENT_SOURCE, lazySink, type PlatformEvent, type RegistryEvent } from './events.js';
import { draftVersion } from '../../test/support/model-versions.js';
import { ModelRegistry } from './registry.js';
import { RegistryTable } from '../storage/table.js';

let env: TestEmulators;
const published: RegistryEvent[] = [];
let registry: ModelRegistry;


beforeAll(async () => {
  env = await startTestEmulators();
  registry = new ModelRegistry(new RegistryTable(env.dynamo, env.resources.tableName), undefined, { publish: async (event) => void published.push(event) });
});
afterAll(async () => env.stop());

describe('registry events', () => {
  it('announce every new version, status change and alias change, after the write', async () => {
    // Act
    await registry.createModel({ name: 'evented' });
    await registry.registerVersion(draftVersion('evented', { lineage: { trainingJob: 'job-1' } }));
    await registry.setVersionStatus('evented', 1, { status: 'APPROVED', by: 'reviewer', reason: 'ok' });
    await registry.setAlias('evented', 'prod', { routes: [{ version: 1, weight: 100 }], updatedBy: 'ci', reason: 'launch', expectedRevision: 0 });
    await registry.setAlias('evented', 'prod', { routes: [{ version: 1, weight: 100 }], updatedBy: 'ci', reason: 'stale', expectedRevision: 0 }).catch(() => undefined);

    // Assess: the refused change announced nothing.
    expect(published).toEqual([
      { type: 'ModelVersionRegistered', model: 'evented', version: 1, lineage: { trainingJob: 'job-1' } },
      { type: 'VersionStatusChanged', model: 'evented', version: 1, from: 'PENDING', to: 'APPROVED', by: 'reviewer', reason: 'ok' },
      { type: 'AliasChanged', model: 'evented', alias: 'prod', revision: 1, kind: 'set', from: [], to: [{ version: 1, weight: 100 }], by: 'ci', reason: 'launch' },
    ]);
  });

  it('go to EventBridge with the registry source and the event type as detail-type; a failure is reported, never thrown', async () => {
    // Prepare
    const client = new EventBridgeClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    mock.on(PutEventsCommand).resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] }).rejectsOnce(new Error('throttled'));
    const errors: string[] = [];
    const sink = eventBridgeSink(client, 'registry-bus', (error) => errors.push((error as Error).message));
    const event: RegistryEvent = { type: 'ModelVersionRegistered', model: 'm', version: 3, lineage: {} };

    // Act
    await sink.publish(event);
    await sink.publish(event);

    // Assess
    expect(mock.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries).toEqual([
      { EventBusName: 'registry-bus', Source: EVENT_SOURCE, DetailType: 'ModelVersionRegistered', Detail: JSON.stringify(event) },
    ]);
    expect(errors).toEqual(['throttled']);
  });
});

describe('lazySink', () => {
  it('makes its sink at the first event, once, and hands it every event', async () => {
    // Prepare
    const received: PlatformEvent[] = [];
    let made = 0;
    const sink = lazySink(async () => {
      made++;
      return { publish: async (event: PlatformEvent) => void received.push(event) };
    });
    const before = made;

    // Act
    await Promise.all([sink.publish({ type: 'A' }), sink.publish({ type: 'B' })]);

    // Assess
    expect([before, made]).toEqual([0, 1]);
    expect(received.map((event) => event.type).sort()).toEqual(['A', 'B']);
  });
});
