/**
 * A dropped file that cannot become a dataset version as a whole (empty, not a data
 * file, a declared column missing…). The version is recorded as FAILED with this message;
 * retrying would not help, so the event is not retried.
 */
export class InvalidDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDataError';
  }
}
