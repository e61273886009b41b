/** Keys of the `metadata_props` the library writes into exported models, which servers read. */

/**
 * The `metadata_props` key through which a model declares its missing-value handling: a JSON
 * array of the input names whose `null` elements it handles (they reach it as NaN in float
 * inputs and `""` in string inputs). Models trained by the platform impute every numeric and
 * categorical feature and declare them all. Without it, `null` inputs are refused.
 */
export const MISSING_VALUES_METADATA_KEY = 'missing_values';
