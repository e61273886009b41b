import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { draftVersion } from '../../test/support/model-versions.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import { RegistryTable } from '../storage/table.js';
import { ModelRegistry } from './registry.js';

let env: TestEmulators;
let registry: ModelRegistry;

const GPU = { kind: 'sagemaker', instanceType: 'ml.g5.xlarge', minInstances: 0, maxInstances: 1 } as const;
const change = { updatedBy: 'test', reason: 'fallback' };

beforeAll(async () => {
  env = await startTestEmulators();
  registry = new ModelRegistry(new RegistryTable(env.dynamo, env.resources.tableName));
  // Versions 1 and 2 in the predict function (CPU), 3 on SageMaker (GPU).
  await registry.createModel({ name: 'vision' });
  await registry.registerVersion(draftVersion('vision'));
  await registry.registerVersion(draftVersion('vision'));
  await registry.registerVersion(draftVersion('vision', { backend: GPU }), () => ({ endpointName: 'local-ai-vision-v3' }));
  // Version 4 takes another input.
  await registry.registerVersion(draftVersion('vision', { signature: { inputs: [{ name: 'image', datatype: 'UINT8', shape: [-1, 3] }], outputs: [] } }));
  await registry.setAlias('vision', 'cpu', { routes: [{ version: 1, weight: 100 }], ...change });
});
afterAll(async () => env.stop());

describe('alias fallbacks on dynalite', () => {
  it('sets a version fallback, shows it, keeps it across changes that do not name one, records it in the ledger and removes it with null', async () => {
    // Act
    const set = await registry.setAlias('vision', 'prod', { routes: [{ version: 3, weight: 100 }], fallback: { version: 1 }, ...change });
    const moved = await registry.setAlias('vision', 'prod', { routes: [{ version: 3, weight: 50 }, { version: 2, weight: 50 }], ...change });
    const served = (await registry.findModelWithAliases('vision'))!.aliases.get('prod');
    const ledger = await registry.listAliasLedger('vision', 'prod');
    const removed = await registry.setAlias('vision', 'prod', { routes: [{ version: 3, weight: 100 }], fallback: null, ...change });

    // Assess
    expect(set.fallback).toEqual({ version: 1 });
    expect(moved.fallback).toEqual({ version: 1 });
    expect(served?.fallback).toEqual({ version: 1 });
    expect(ledger.items.map((entry) => entry.fallback)).toEqual([{ version: 1 }, { version: 1 }]);
    expect(removed.fallback).toBeUndefined();
    expect((await registry.getAlias('vision', 'prod')).fallback).toBeUndefined();
  });

  it('keeps the fallback through a rollback', async () => {
    // Prepare
    const before = await registry.setAlias('vision', 'rb', { routes: [{ version: 3, weight: 100 }], fallback: { alias: 'cpu' }, ...change });
    await registry.setAlias('vision', 'rb', { routes: [{ version: 2, weight: 100 }], ...change });

    // Act
    const restored = await registry.rollbackAlias('vision', 'rb', { by: 'test', reason: '', expectedRevision: before.revision + 1 });

    // Assess
    expect(restored.routes).toEqual([{ version: 3, weight: 100 }]);
    expect(restored.fallback).toEqual({ alias: 'cpu' });
  });

  it('refuses a fallback that cannot stand in: on SageMaker, unknown, with other tensors, itself, an alias that routes nowhere or to SageMaker', async () => {
    // Prepare
    await registry.setAlias('vision', 'gpu', { routes: [{ version: 3, weight: 100 }], ...change });
    const attempt = (fallback: { version: number } | { alias: string }) => registry.setAlias('vision', 'bad', { routes: [{ version: 3, weight: 100 }], fallback, ...change });

    // Act, Assess
    await expect(attempt({ version: 3 })).rejects.toThrowError(new InvalidRequestError("fallback version 3 of model 'vision' is served by a SageMaker endpoint; a fallback must be served by the predict function (ONNX), which answers while endpoints cannot"));
    await expect(attempt({ version: 9 })).rejects.toThrowError(NotFoundError);
    await expect(attempt({ alias: 'bad' })).rejects.toThrowError("alias 'bad' cannot be its own fallback");
    await expect(attempt({ alias: 'ghost' })).rejects.toThrowError(new NotFoundError("model 'vision' has no alias 'ghost' to fall back to"));
    await expect(attempt({ alias: 'gpu' })).rejects.toThrowError('is served by a SageMaker endpoint');
    await expect(attempt({ version: 4 })).rejects.toThrowError(
      new ConflictError("fallback version 4 of model 'vision' does not take and answer the tensors of version 3, which alias 'bad' routes to: inputs x FP32 against image UINT8"),
    );
  });

  it('refuses alias fallbacks that would form a cycle', async () => {
    // Prepare: a → b (CPU), then b → a would close the loop.
    await registry.setAlias('vision', 'a', { routes: [{ version: 1, weight: 100 }], ...change });
    await registry.setAlias('vision', 'b', { routes: [{ version: 2, weight: 100 }], fallback: { alias: 'a' }, ...change });

    // Act, Assess
    await expect(registry.setAlias('vision', 'a', { routes: [{ version: 1, weight: 100 }], fallback: { alias: 'b' }, ...change })).rejects.toThrowError(
      new ConflictError("alias fallbacks would form a cycle: 'a' → 'b' → 'a'"),
    );
  });

  it('refuses to archive a version that is an alias fallback', async () => {
    // Prepare
    await registry.createModel({ name: 'keep' });
    await registry.registerVersion(draftVersion('keep'));
    await registry.registerVersion(draftVersion('keep'));
    await registry.setAlias('keep', 'prod', { routes: [{ version: 2, weight: 100 }], fallback: { version: 1 }, ...change });

    // Act, Assess
    await expect(registry.setVersionStatus('keep', 1, { status: 'ARCHIVED', by: 'test', reason: 'old' })).rejects.toThrowError(
      new ConflictError("version 1 of model 'keep' is the fallback of alias(es) 'prod'; change their fallback first"),
    );
  });

  it('keeps an alias that others fall back to fit to stand in: no re-pointing to SageMaker or other tensors, no rollback there, no deletion', async () => {
    // Prepare: 'stand' (CPU, version 1) is the fallback of 'front' (SageMaker, version 3).
    await registry.setAlias('vision', 'stand', { routes: [{ version: 1, weight: 100 }], ...change });
    await registry.setAlias('vision', 'front', { routes: [{ version: 3, weight: 100 }], fallback: { alias: 'stand' }, ...change });
    const repoint = (version: number) => registry.setAlias('vision', 'stand', { routes: [{ version, weight: 100 }], ...change });

    // Act, Assess
    await expect(repoint(3)).rejects.toThrowError(
      new InvalidRequestError("version 3 (alias 'stand', the fallback of alias 'front') of model 'vision' is served by a SageMaker endpoint; a fallback must be served by the predict function (ONNX), which answers while endpoints cannot"),
    );
    await expect(repoint(4)).rejects.toThrowError(
      new ConflictError("version 4 (alias 'stand', the fallback of alias 'front') of model 'vision' does not take and answer the tensors of version 3, which alias 'front' routes to: inputs x FP32 against image UINT8"),
    );
    await expect(registry.deleteAlias('vision', 'stand', { by: 'test', reason: 'gone' })).rejects.toThrowError(
      new ConflictError("alias 'stand' of model 'vision' is the fallback of alias(es) 'front'; change their fallback first"),
    );
    // Another CPU version with the same tensors is fine, and so is a rollback to version 1.
    const moved = await repoint(2);
    await expect(registry.rollbackAlias('vision', 'stand', { by: 'test', reason: '', expectedRevision: moved.revision })).resolves.toMatchObject({ routes: [{ version: 1, weight: 100 }] });
    // Once 'front' no longer falls back to it, it can go.
    await registry.setAlias('vision', 'front', { routes: [{ version: 3, weight: 100 }], fallback: null, ...change });
    await expect(registry.deleteAlias('vision', 'stand', { by: 'test', reason: 'gone' })).resolves.toBeUndefined();
  });
});
