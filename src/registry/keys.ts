/**
 * Key design of the single registry table (see README "Registry table").
 *
 * | item    | pk             | sk                       | gsi1pk   | gsi1sk |
 * | ------- | -------------- | ------------------------ | -------- | ------ |
 * | model   | `MODEL#<name>` | `#MODEL`                 | `MODELS` | name   |
 * | version | `MODEL#<name>` | `VERSION#<10-digit n>`   |          |        |
 * | alias   | `MODEL#<name>` | `ALIAS#<alias>`          |          |        |
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
