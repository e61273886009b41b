/**
 * Every Lambda layer the platform builds, by topology `LayerId`: the build CLI
 * (`layers/build-layer.ts`) and the CDK construct (`infra/native-layer.ts`) read this list.
 */
import type { LayerId } from '../topology/spec.js';
import type { LayerDescription } from './build-layer.js';
import { duckDbLayer } from './duckdb/build.js';
import { onnxRuntimeLayer } from './onnxruntime/build.js';

/** The layer descriptions, by id. */
export const LAYERS: Readonly<Record<LayerId, LayerDescription>> = {
  onnxruntime: onnxRuntimeLayer,
  duckdb: duckDbLayer,
};
