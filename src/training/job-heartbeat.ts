/**
 * A worker's heartbeat on the job it holds, for the whole attempt (loading, training,
 * verifying, registering): every interval it writes the job's progress, which renews the
 * worker's lease ({@link JobStore.recordProgress}). When a heartbeat finds a cancel request, or
 * finds that the worker no longer holds the job (its lease went stale and another delivery took
 * it over, or a cancel ended it), the attempt must stop: the listeners hear why, once.
 */
import type { PipelineProgress } from '../ml/pipeline.js';
import { LeaseLostError, type JobStore } from './job-store.js';
import type { JobProgress } from './types.js';

/** Ends an attempt with a final status (a cancel request, the time limit). */
export class StopError extends Error {
  constructor(
    readonly status: 'FAILED' | 'CANCELLED',
    message: string,
  ) {
    super(message);
    this.name = 'StopError';
  }
}

/** Why a worker stops after a cancel request. */
export const CANCELLED_WHILE_RUNNING = 'cancelled while running';

/** The heartbeat of one attempt; {@link close} it when the attempt ends. */
export class JobHeartbeat {
  private latest: PipelineProgress | { readonly stage: 'registering' } = { stage: 'loading' };
  private readonly started = Date.now();
  private readonly timer: NodeJS.Timeout;
  private writing = false;
  private stopReason: Error | undefined;
  private readonly listeners = new Set<(reason: Error) => void>();

  constructor(
    private readonly jobs: JobStore,
    private readonly jobId: string,
    private readonly owner: string,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.beat(), intervalMs);
  }

  /** Seconds since the attempt started. */
  get elapsedSeconds(): number {
    return Math.round((Date.now() - this.started) / 100) / 10;
  }

  /** Sets the progress the next heartbeat writes. */
  report(progress: PipelineProgress): void {
    this.latest = progress;
  }

  /**
   * Enters a stage and writes it at once; throws why the attempt must stop, if it must (a cancel
   * that arrived since the last heartbeat still stops the job here).
   */
  async enter(stage: 'verifying' | 'registering'): Promise<void> {
    this.latest = { stage };
    this.throwIfStopped();
    const { cancelRequested } = await this.jobs.recordProgress(this.jobId, this.owner, this.progress());
    if (cancelRequested) this.stop(new StopError('CANCELLED', CANCELLED_WHILE_RUNNING));
    this.throwIfStopped();
  }

  /** Calls `listener` once when the attempt must stop (at once if it already must); returns its removal. */
  onStop(listener: (reason: Error) => void): () => void {
    if (this.stopReason !== undefined) listener(this.stopReason);
    else this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the heartbeat. */
  close(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  private progress(): JobProgress {
    return { ...this.latest, elapsedSeconds: this.elapsedSeconds, updatedAt: new Date().toISOString() };
  }

  private throwIfStopped(): void {
    if (this.stopReason !== undefined) throw this.stopReason;
  }

  private stop(reason: Error): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = reason;
    for (const listener of this.listeners) listener(reason);
    this.listeners.clear();
  }

  private async beat(): Promise<void> {
    if (this.writing || this.stopReason !== undefined) return;
    this.writing = true;
    try {
      const { cancelRequested } = await this.jobs.recordProgress(this.jobId, this.owner, this.progress());
      if (cancelRequested) this.stop(new StopError('CANCELLED', CANCELLED_WHILE_RUNNING));
    } catch (error) {
      if (error instanceof LeaseLostError) this.stop(error);
      // Other write failures are retried at the next interval: the lease outlasts several misses.
    } finally {
      this.writing = false;
    }
  }
}
