/** How the lake's column types become the ML library's feature kinds. */
import type { ColumnType } from '../lake/column-types.js';
import type { FeatureKind } from '../ml/features.js';

/** The kind of feature a lake column type becomes; timestamps are not features. */
export function featureKindOf(type: ColumnType): FeatureKind | undefined {
  switch (type) {
    case 'integer':
    case 'float':
      return 'numeric';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'categorical';
    case 'timestamp':
      return undefined;
  }
}
