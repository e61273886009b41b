/**
 * The parts of a Triton model configuration (`config.pbtxt`, protobuf text format) the emulated
 * Triton reads: the top-level scalar fields (`name`, `platform`, `backend`, `max_batch_size`).
 * Nested messages (`input`, `output`, `instance_group`…) are skipped: the emulated Triton takes
 * tensor names, types and shapes from the ONNX model, as Triton's auto-complete does.
 */

/** A model configuration's top-level scalar fields, by name (strings unquoted). */
export type TopLevelFields = ReadonlyMap<string, string>;

/** A `config.pbtxt` that is not protobuf text format. */
export class ModelConfigSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigSyntaxError';
  }
}

const TOKEN = /\s+|#[^\n]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[{}[\]:,;<>]|[^\s{}[\]:,;<>"'#]+/y;

function tokens(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (match === null) throw new ModelConfigSyntaxError(`unexpected character at offset ${at}`);
    const token = match[0];
    if (!/^\s/.test(token) && !token.startsWith('#')) out.push(token);
  }
  return out;
}

const unquote = (token: string) => (/^["']/.test(token) ? token.slice(1, -1).replace(/\\(.)/g, '$1') : token);

/** Reads the top-level scalar fields of a model configuration. */
export function topLevelFields(text: string): TopLevelFields {
  const fields = new Map<string, string>();
  let depth = 0;
  const all = tokens(text);
  for (let i = 0; i < all.length; i++) {
    const token = all[i]!;
    if (token === '{' || token === '[' || token === '<') depth++;
    else if (token === '}' || token === ']' || token === '>') {
      depth--;
      if (depth < 0) throw new ModelConfigSyntaxError(`unbalanced '${token}'`);
    } else if (depth === 0 && all[i + 1] === ':' && all[i + 2] !== undefined && !/^[{[<]$/.test(all[i + 2]!)) {
      fields.set(token, unquote(all[i + 2]!));
      i += 2;
    }
  }
  if (depth !== 0) throw new ModelConfigSyntaxError('unbalanced braces');
  return fields;
}
