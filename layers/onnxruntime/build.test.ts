import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILD_TIMEOUT_MS, EXPECTED_PROOF, HOST_ARCH, listDir, temporaryFolders } from '../layer-test-support.js';
import { buildOnnxRuntimeLayer, DEFAULT_LAYER_BUDGET_BYTES } from './build.js';

const makeTempDir = temporaryFolders('onnxruntime-layer-test-');

describe('buildOnnxRuntimeLayer', () => {
  it(
    `builds a linux/${HOST_ARCH} layer that loads and runs a model, within budget, and zips it`,
    async () => {
      // Prepare
      const root = await makeTempDir();
      const outDir = path.join(root, HOST_ARCH);

      // Act
      const report = await buildOnnxRuntimeLayer({ arch: HOST_ARCH, outDir });

      // Assess
      const binDir = path.join(outDir, 'nodejs', 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
      expect(await listDir(binDir)).toEqual(['linux']);
      expect(await listDir(path.join(binDir, 'linux'))).toEqual([HOST_ARCH]);
      expect(await listDir(path.join(binDir, 'linux', HOST_ARCH))).toContain('onnxruntime_binding.node');
      expect(report.arch).toBe(HOST_ARCH);
      expect(report.outDir).toBe(outDir);
      expect(report.proof).toBe(EXPECTED_PROOF);
      expect(report.unzippedBytes).toBeGreaterThan(0);
      expect(report.unzippedBytes).toBeLessThanOrEqual(DEFAULT_LAYER_BUDGET_BYTES);
      expect(report.zippedBytes).toBeGreaterThan(0);
      expect(report.zippedBytes).toBeLessThan(report.unzippedBytes);
      expect(report.zipPath).toBe(path.join(root, `onnxruntime-${HOST_ARCH}.zip`));
      expect(existsSync(report.zipPath)).toBe(true);
      expect(report.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(report.proofDetail).toContain('= [11,22,33]');
      expect(await listDir(path.join(outDir, 'nodejs', 'node_modules'))).toEqual(['onnxruntime-common', 'onnxruntime-node']);
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'rejects naming the size and the budget, without writing a zip, when the layer is over budget',
    async () => {
      // Prepare
      const root = await makeTempDir();
      const outDir = path.join(root, HOST_ARCH);
      const budgetBytes = 1024 * 1024;

      // Act
      const build = buildOnnxRuntimeLayer({ arch: HOST_ARCH, outDir, budgetBytes });

      // Assess
      await expect(build).rejects.toThrow(/over the budget of 1\.0 MB \(1048576 bytes\)/);
      expect(existsSync(path.join(root, `onnxruntime-${HOST_ARCH}.zip`))).toBe(false);
    },
    BUILD_TIMEOUT_MS,
  );
});
