/** Events of stream scoring on the platform's event bus (detail-type `StreamScoreAboveThreshold`). */
import type { PlatformEvent } from '../registry/events.js';
import type { ScoredLine } from './score-batch.js';

/** A record's score crossed its stream's threshold (the fraud-detection case). */
export interface ScoreAboveThreshold extends PlatformEvent {
  readonly type: 'StreamScoreAboveThreshold';
  readonly model: string;
  readonly version: string;
  readonly id: string;
  readonly key: string;
  readonly sequenceNumber: string;
  readonly score: number;
  readonly above: number;
}

/** The events of a micro-batch's lines whose score crossed `above`. */
export function thresholdEvents(lines: readonly ScoredLine[], above: number): ScoreAboveThreshold[] {
  return lines.flatMap((line) =>
    'score' in line && line.score !== undefined
      ? [{ type: 'StreamScoreAboveThreshold' as const, model: line.model, version: line.version, id: line.id, key: line.key, sequenceNumber: line.sequenceNumber, score: line.score, above }]
      : [],
  );
}
