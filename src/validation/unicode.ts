/** Unicode checks on request text: what UTF-8 (and so DynamoDB, S3 and ONNX Runtime) cannot carry. */

/** A UTF-16 surrogate without its other half (matched on code units: no `u` flag). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first unpaired surrogate of `text` (which has no UTF-8 encoding), as `\uXXXX` and its position; `undefined` when it has none. */
export function loneSurrogate(text: string): { readonly unit: string; readonly index: number } | undefined {
  const lone = LONE_SURROGATE.exec(text);
  return lone === null ? undefined : { unit: `\\u${lone[0].charCodeAt(0).toString(16)}`, index: lone.index };
}
