/**
 * Says what went wrong when onnxruntime refuses to run a model on inputs that passed the
 * platform's own checks. onnxruntime reports every failure as a plain `Error` whose text
 * follows a few fixed forms; each form is read here and answered in the platform's words:
 *
 * - the inputs do not fit the model's declared inputs (rank, a dimension, an element type):
 *   an invalid request, naming the input and what the model expects;
 * - an operator failed on the shapes or values it was given (dimensions that do not match or
 *   broadcast, a shape that cannot be reshaped, an index out of range, an integer division by
 *   zero): an invalid request, which can be changed to succeed;
 * - any other failure of the model (an operator error unrelated to its inputs, memory): a model failure naming
 *   the version, the model is at fault and the caller cannot fix it.
 *
 * Source locations, C++ signatures and node names stay in the log (the error's `cause`).
 */
import { clip, InvalidRequestError, ModelRunError, quote } from '../errors.js';

/** Longest part of onnxruntime's own explanation quoted in an answer. */
const MAX_DETAIL_CHARS = 300;
/** Input shapes listed in an answer, at most. */
const MAX_LISTED_INPUTS = 8;

/** onnxruntime's tensor element type names (`tensor(double)`) as KServe v2 datatypes. */
const ONNX_TYPE_TO_V2: Readonly<Record<string, string>> = {
  float: 'FP32',
  double: 'FP64',
  float16: 'FP16',
  bool: 'BOOL',
  string: 'BYTES',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
};

/** What the failing run was given, to name in answers. */
export interface RunContext {
  readonly model: string;
  readonly version: number;
  /** The shape of each input fed to the session. */
  readonly inputShapes: ReadonlyMap<string, readonly number[]>;
  /** Whether several inputs have dynamic dimensions, which the request may have given different sizes. */
  readonly severalDynamicInputs: boolean;
}

/** onnxruntime's explanation without its source location and C++ signature (`concatbase.h:133 PrepareForComputeImpl …`). */
function explanation(statusMessage: string): string {
  let text = statusMessage.trim();
  const location = /^\S+\.(?:h|cc|cpp):\d+\s+/.exec(text);
  // After a source location comes the function that failed: a name, or a C++ signature.
  if (location !== null) text = text.slice(location[0].length).replace(/^[^\s(]+(?:\([^)]*\))?(?:\s+const)?\s+/, '');
  text = text.replace(/\s+/g, ' ');
  return clip(text, MAX_DETAIL_CHARS);
}

const v2Type = (onnxType: string): string => ONNX_TYPE_TO_V2[onnxType] ?? onnxType;

function listShapes(shapes: ReadonlyMap<string, readonly number[]>): string {
  const listed = [...shapes].slice(0, MAX_LISTED_INPUTS).map(([name, shape]) => `${quote(name)} [${shape.join(', ')}]`);
  return `${listed.join(', ')}${shapes.size > MAX_LISTED_INPUTS ? `, and ${shapes.size - MAX_LISTED_INPUTS} more` : ''}`;
}

/** Failures about the shapes or values operators were given: the request can be changed to succeed. */
const INPUT_DEPENDENT_FAILURE =
  /shape|dimension|rank|broadcast|mismatch|out of (?:data )?bounds|out of range|must be within|invalid index|indices|divi(?:sion|de) by zero/i;

/** The platform's error for an onnxruntime run failure (see the module comment). */
export function runFailure(error: unknown, context: RunContext): InvalidRequestError | ModelRunError {
  const message = error instanceof Error ? error.message : String(error);
  let match = /^Got invalid dimensions for input: (.+?) for the following indices\s+index: (\d+) Got: (\d+) Expected: (\d+)/.exec(message);
  if (match !== null) {
    return new InvalidRequestError(`input ${quote(match[1]!)}: dimension ${match[2]} is ${match[3]}; the model expects ${match[4]}`, error);
  }
  match = /^Invalid rank for input: (.+?) Got: (\d+) Expected: (\d+)/.exec(message);
  if (match !== null) return new InvalidRequestError(`input ${quote(match[1]!)}: rank ${match[2]}; the model expects rank ${match[3]}`, error);
  match = /Unexpected input data type\. Actual: \(tensor\((\w+)\)\) , expected: \(tensor\((\w+)\)\)/.exec(message);
  if (match !== null) {
    return new InvalidRequestError(`an input is ${v2Type(match[1]!)} where the model expects ${v2Type(match[2]!)}`, error);
  }
  match = /^Non-zero status code returned while running (\S+) node\. Name:'.*?' Status Message: ([\s\S]*)$/.exec(message);
  if (match !== null) {
    const [, operator, status] = match;
    const detail = explanation(status!);
    if (INPUT_DEPENDENT_FAILURE.test(detail)) {
      return new InvalidRequestError(
        `the model cannot run on these inputs: its ${operator} operator failed: ${detail} (inputs: ${listShapes(context.inputShapes)})` +
          (context.severalDynamicInputs ? '; check that the inputs agree on their dynamic dimensions (e.g. batch size)' : ''),
        error,
      );
    }
    return new ModelRunError(context.model, context.version, `its ${operator} operator failed: ${detail}`, error);
  }
  return new ModelRunError(context.model, context.version, `onnxruntime: ${explanation(message)}`, error);
}
