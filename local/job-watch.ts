/**
 * `npm run lake -- watch <job id>`: a training job's progress, one line per change, and once it
 * has finished, what it came to (the version and whether its alias moved, or why it failed).
 */
import type { TrainingJob } from '../src/training/types.js';

/** One line of a job's state: status, stage (`done` once it SUCCEEDED), iteration, losses, time. */
export function progressLine(job: TrainingJob): string {
  const p = job.progress;
  const parts = [job.status, p?.stage, p?.iteration === undefined ? undefined : `iteration ${p.iteration}/${p.maxIterations}`];
  if (p?.loss !== undefined) parts.push(`loss ${p.loss.toPrecision(4)}`);
  if (p?.validationLoss !== undefined) parts.push(`validation loss ${p.validationLoss.toPrecision(4)}`);
  if (p !== undefined) parts.push(`${p.elapsedSeconds} s`);
  return parts.filter((part) => part !== undefined).join(' · ');
}

/** What a finished job came to, in lines; `undefined` while it is QUEUED or RUNNING. */
export function outcomeLines(job: TrainingJob): string[] | undefined {
  if (job.status === 'QUEUED' || job.status === 'RUNNING') return undefined;
  if (job.status !== 'SUCCEEDED') return [`${job.status}: ${job.reason ?? 'no reason recorded'}`];
  const { alias, modelName } = job.spec;
  const aliasPart = alias === undefined ? '' : job.aliasNotMoved === undefined ? `; alias '${alias}' points to it` : `; alias '${alias}' not moved: ${job.aliasNotMoved}`;
  const metrics = Object.entries(job.metrics ?? {}).map(([name, value]) => `${name} ${Number.isInteger(value) ? value : value.toFixed(4)}`);
  return [`registered model '${modelName}' version ${job.modelVersion}${aliasPart}`, ...(metrics.length === 0 ? [] : [`  ${metrics.join(', ')}`])];
}

/**
 * Polls a job until it finishes, printing each changed progress line and then its outcome;
 * resolves with the finished job.
 */
export async function watchJob(read: () => Promise<TrainingJob>, print: (line: string) => void, pollMs = 500): Promise<TrainingJob> {
  let last = '';
  for (;;) {
    const job = await read();
    const line = progressLine(job);
    if (line !== last) print(line);
    last = line;
    const outcome = outcomeLines(job);
    if (outcome !== undefined) {
      outcome.forEach(print);
      return job;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
