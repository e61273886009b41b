import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILD_TIMEOUT_MS, EXPECTED_PROOF, HOST_ARCH, listDir, temporaryFolders } from '../layer-test-support.js';
import { buildDuckDbLayer, DEFAULT_DUCKDB_LAYER_BUDGET_BYTES, duckDbLayer } from './build.js';

const makeTempDir = temporaryFolders('duckdb-layer-test-');

describe('buildDuckDbLayer', () => {
  it(
    `builds a linux/${HOST_ARCH} layer whose DuckDB round-trips Parquet and reads JSON with built-in extensions, within budget, and zips it`,
    async () => {
      // Prepare
      const root = await makeTempDir();
      const outDir = path.join(root, HOST_ARCH);

      // Act
      const report = await buildDuckDbLayer({ arch: HOST_ARCH, outDir });

      // Assess
      const nodeModules = path.join(outDir, 'nodejs', 'node_modules');
      expect(await listDir(nodeModules)).toEqual(['@duckdb', 'detect-libc']);
      expect(await listDir(path.join(nodeModules, '@duckdb'))).toEqual(['node-api', 'node-bindings', `node-bindings-linux-${HOST_ARCH}`]);
      expect(await listDir(path.join(nodeModules, '@duckdb', `node-bindings-linux-${HOST_ARCH}`))).toEqual(
        expect.arrayContaining(['duckdb.node', 'libduckdb.so']),
      );
      expect((await listDir(path.join(nodeModules, '@duckdb', 'node-api', 'lib'))).filter((file) => file.endsWith('.d.ts'))).toEqual([]);
      expect(report).toMatchObject({ layer: 'duckdb', packageName: '@duckdb/node-api', arch: HOST_ARCH, outDir, proof: EXPECTED_PROOF });
      if (report.proof === 'ran') {
        expect(report.proofDetail).toContain('{"rows":3,"total":3,"labels":"row 0,row 1,row 2"}');
        expect(report.proofDetail).toContain('json and parquet statically linked');
      }
      expect(report.version).toBe('1.5.5-r.5');
      expect(report.unzippedBytes).toBeGreaterThan(0);
      expect(report.unzippedBytes).toBeLessThanOrEqual(DEFAULT_DUCKDB_LAYER_BUDGET_BYTES);
      expect(report.zippedBytes).toBeGreaterThan(0);
      expect(report.zippedBytes).toBeLessThan(report.unzippedBytes);
      expect(report.zipPath).toBe(path.join(root, `duckdb-${HOST_ARCH}.zip`));
      expect(existsSync(report.zipPath)).toBe(true);
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'rejects naming the size and the budget, without writing a zip, when the layer is over budget',
    async () => {
      // Prepare
      const root = await makeTempDir();
      const outDir = path.join(root, HOST_ARCH);

      // Act
      const build = buildDuckDbLayer({ arch: HOST_ARCH, outDir, budgetBytes: 10 * 1024 * 1024 });

      // Assess
      await expect(build).rejects.toThrow(`duckdb layer (linux/${HOST_ARCH}) is`);
      await expect(build).rejects.toThrow(/MB unzipped \(\d+ bytes\), over the budget of 10\.0 MB \(10485760 bytes\)/);
      expect(existsSync(path.join(root, `duckdb-${HOST_ARCH}.zip`))).toBe(false);
    },
    BUILD_TIMEOUT_MS,
  );

  it('rejects a proof in which json or parquet was not statically linked (it would be downloaded on Lambda)', () => {
    // Prepare
    const result = {
      duckdb: 'v1.5.5',
      parquet: { rows: 3, total: 3, labels: 'row 0,row 1,row 2' },
      json: '1',
      extensions: [
        { name: 'json', mode: 'INSTALLED' },
        { name: 'parquet', mode: 'STATICALLY_LINKED' },
      ],
    };

    // Act
    const check = (): string => duckDbLayer.checkProof(result);

    // Assess
    expect(check).toThrow(/extensions json, parquet must be loaded and statically linked/);
    expect(duckDbLayer.checkProof({ ...result, extensions: [{ name: 'json', mode: 'STATICALLY_LINKED' }, { name: 'parquet', mode: 'STATICALLY_LINKED' }] })).toContain(
      'json and parquet statically linked',
    );
  });

  it('rejects a proof whose Parquet round trip lost rows', () => {
    // Prepare
    const result = { duckdb: 'v1.5.5', parquet: { rows: 2, total: 1, labels: 'row 0,row 1' }, json: '1', extensions: [] };

    // Act
    const check = (): string => duckDbLayer.checkProof(result);

    // Assess
    expect(check).toThrow(/Parquet round trip read \{"rows":2/);
  });
});
