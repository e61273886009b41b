/**
 * The AWS Lambda layer that provides `@duckdb/node-api` to the ingest function, built by the
 * shared machinery in `layers/layer-builder.ts` (`npm run build:layer -- duckdb`).
 *
 * `@duckdb/node-bindings` lists one optional package per platform; npm installs only the
 * `linux/<arch>` glibc one (`@duckdb/node-bindings-linux-<arch>`: `duckdb.node` and a ~67 MB
 * `libduckdb.so`). The parquet and json extensions are statically linked into it, which the proof
 * checks with extension autoloading and autoinstall turned off: Lambda must never download one.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import {
  buildLayer,
  MEGABYTE,
  subdirectories,
  type LayerArch,
  type LayerBuildOptions,
  type LayerBuildReport,
  type LayerDescription,
} from '../layer-builder.js';

/**
 * Default unzipped size budget: 80 MB. The layer measures about 70 MB (`libduckdb.so` alone is
 * 67 MB); the headroom absorbs a DuckDB upgrade, and two 80 MB layers would still leave 90 MB of
 * Lambda's 250 MB for function code.
 */
export const DEFAULT_DUCKDB_LAYER_BUDGET_BYTES = 80 * MEGABYTE;

const DUCKDB_PACKAGE = '@duckdb/node-api';
const BINDINGS_SCOPE = '@duckdb';
const BINDINGS_PREFIX = 'node-bindings-';

/** Statically linked extensions the ingest function relies on. */
const REQUIRED_EXTENSIONS = ['json', 'parquet'] as const;

const EXPECTED_PARQUET = { rows: 3, total: 3, labels: 'row 0,row 1,row 2' };
const EXPECTED_JSON = '1';

interface DuckDbProofResult {
  readonly duckdb: string;
  readonly parquet: unknown;
  readonly json: unknown;
  readonly extensions: ReadonlyArray<{ readonly name: string; readonly mode: string }>;
}

/** The @duckdb/node-api layer. */
export const duckDbLayer: LayerDescription = {
  id: 'duckdb',
  packageName: DUCKDB_PACKAGE,
  defaultBudgetBytes: DEFAULT_DUCKDB_LAYER_BUDGET_BYTES,

  /** Deletes every `@duckdb/node-bindings-<platform>-<arch>[-musl]` package except `linux-<arch>` (glibc). */
  async pruneForeignBinaries(nodeModulesDir: string, arch: LayerArch): Promise<void> {
    for (const dir of await subdirectories(path.join(nodeModulesDir, BINDINGS_SCOPE))) {
      const name = path.basename(dir);
      if (name.startsWith(BINDINGS_PREFIX) && name !== `${BINDINGS_PREFIX}linux-${arch}`) {
        await rm(dir, { recursive: true, force: true });
      }
    }
  },

  requiredFiles(arch: LayerArch): readonly string[] {
    const bindingDir = `${BINDINGS_SCOPE}/${BINDINGS_PREFIX}linux-${arch}`;
    return [`${bindingDir}/duckdb.node`, `${bindingDir}/libduckdb.so`];
  },

  // Writes a three-row table to Parquet in the (empty, temporary) cwd, reads it back, extracts
  // a JSON value, and asks DuckDB how the two extensions were loaded.
  proofSource: `
    const path = require('node:path');
    const { DuckDBInstance } = require('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const connection = await instance.connect();
    const one = async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJson();
    try {
      const file = path.join(process.cwd(), 'proof.parquet').replaceAll("'", "''");
      await connection.run("COPY (SELECT range::INTEGER AS id, 'row ' || range AS label FROM range(3)) TO '" + file + "' (FORMAT parquet)");
      const [parquet] = await one("SELECT count(*)::INTEGER AS rows, sum(id)::INTEGER AS total, string_agg(label, ',' ORDER BY id) AS labels FROM read_parquet('" + file + "')");
      const [{ a: json }] = await one("SELECT json_extract('{\\"a\\":1}', '$.a')::VARCHAR AS a");
      const extensions = await one("SELECT extension_name AS name, install_mode AS mode FROM duckdb_extensions() WHERE loaded AND extension_name IN ('json', 'parquet') ORDER BY 1");
      const [{ v: duckdb }] = await one('SELECT version() AS v');
      return { duckdb, parquet, json, extensions };
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  `,

  checkProof(result: unknown): string {
    const proof = result as DuckDbProofResult;
    if (JSON.stringify(proof.parquet) !== JSON.stringify(EXPECTED_PARQUET)) {
      throw new Error(`Proof mismatch: Parquet round trip read ${JSON.stringify(proof.parquet)}, expected ${JSON.stringify(EXPECTED_PARQUET)}`);
    }
    if (proof.json !== EXPECTED_JSON) {
      throw new Error(`Proof mismatch: json_extract returned ${JSON.stringify(proof.json)}, expected ${JSON.stringify(EXPECTED_JSON)}`);
    }
    const statics = (proof.extensions ?? []).filter((extension) => extension.mode === 'STATICALLY_LINKED').map((extension) => extension.name);
    if (JSON.stringify(statics) !== JSON.stringify(REQUIRED_EXTENSIONS)) {
      throw new Error(
        `Proof mismatch: extensions ${REQUIRED_EXTENSIONS.join(', ')} must be loaded and statically linked, got ${JSON.stringify(proof.extensions)}`,
      );
    }
    return (
      `DuckDB ${String(proof.duckdb)}: COPY … TO parquet then read_parquet gave ${JSON.stringify(proof.parquet)}, ` +
      `json_extract('{"a":1}', '$.a') = ${proof.json}; ${REQUIRED_EXTENSIONS.join(' and ')} statically linked`
    );
  },
};

/**
 * Builds the @duckdb/node-api layer for one architecture, proves it (when the host can load the
 * target binaries), measures it and zips it.
 *
 * @param options - Target architecture, output directory (default `layers/duckdb/dist/<arch>`) and unzipped size budget.
 * @throws If npm install fails, the linux binding is missing, the proof fails, or the layer is over budget.
 */
export function buildDuckDbLayer(options: LayerBuildOptions = {}): Promise<LayerBuildReport> {
  return buildLayer(duckDbLayer, options);
}
