/**
 * A training job failed for a reason retrying cannot fix (the data, the request or the
 * model): the job becomes FAILED with this message, and nothing is registered.
 */
export class TrainingFailedError extends Error {
  constructor(
    message: string,
    /** Metrics computed before the failure, kept on the job. */
    readonly metrics?: Record<string, number>,
  ) {
    super(message);
    this.name = 'TrainingFailedError';
  }
}
