/**
 * Key design of the single registry table (see README "Registry table").
 *
 * | item    | pk             | sk                       | gsi1pk   | gsi1sk |
 * | ------- | -------------- | ------------------------ | -------- | ------ |
 * | model   | `MODEL#<name>` | `#MODEL`                 | `MODELS` | name   |
 * | version | `MODEL#<name>` | `VERSION#<10-digit n>`   |          |        |
 * | alias   | `MODEL#<name>` | `ALIAS#<alias>`          |          |        |
 *
 * A SageMaker-backed version whose deployment is in progress (DEPLOYING, DELETING) is also in the
 * index under `DEPLOYMENTS` (sort key `<model>#<version sort key>`), which the `deployments`
 * function reads; it leaves the index when its deployment settles.
 *
 * One partition per model holds the model, its versions (sorted by number thanks
 * to zero padding) and its aliases, so "latest version" is one reverse query
 * and every write is a single-item conditional write.
 */

/** Partition key of a model's items. */
export const modelPk = (name: string): string => `MODEL#${name}`;
/** Sort key of the model item itself. */
export const MODEL_SK = '#MODEL';
/** Index partition shared by all model items. */
export const MODELS_GSI_PK = 'MODELS';
/** Sort-key prefix of alias items. */
export const ALIAS_PREFIX = 'ALIAS#';
/** Sort key of an alias item. */
export const aliasSk = (alias: string): string => `${ALIAS_PREFIX}${alias}`;
/** Index partition of the versions whose deployment is in progress. */
export const DEPLOYMENTS_GSI_PK = 'DEPLOYMENTS';
