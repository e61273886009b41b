import { InferenceSession } from 'onnxruntime-node';

/**
 * Times every `session.run` (any session), so that each handler call can be split into the
 * model's own run and the time around it, call by call, which cancels the run-to-run noise of
 * the model compute on a shared machine.
 */
export function instrumentSessionRun(): { readonly last: () => number } {
  // `InferenceSession` is typed as its factory; at run time it is the class.
  const { prototype } = InferenceSession as unknown as { prototype: InferenceSession };
  const original = prototype.run;
  let lastMicros = 0;
  prototype.run = async function (this: InferenceSession, ...args: Parameters<InferenceSession['run']>) {
    const start = process.hrtime.bigint();
    try {
      return await original.apply(this, args);
    } finally {
      lastMicros = Number(process.hrtime.bigint() - start) / 1000;
    }
  } as InferenceSession['run'];
  return { last: () => lastMicros };
}
