/**
 * Every Lambda layer the platform builds, by topology `LayerId`: the build CLI
 * (`layers/layer-builder.ts`) and the CDK construct (`infra/native-module-layer.ts`) read this list.
 */
import type { LayerId } from '../topology/spec.js';
import type { LayerDescription } from './layer-builder.js';
import { duckDbLayer } from './duckdb/build.js';
import { onnxRuntimeLayer } from './onnxruntime/build.js';

/** The layer descriptions, by id. */
export const LAYERS: Readonly<Record<LayerId, LayerDescription>> = {
  onnxruntime: onnxRuntimeLayer,
  duckdb: duckDbLayer,
};
