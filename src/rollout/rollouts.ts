/**
 * Rollouts: start one on an alias, let the scheduled advancer move it step by step (or roll it
 * back when a guard trips), pause, resume or abort it.
 *
 * Every move of the alias goes through the registry (`setAlias`, so it is checked, recorded in
 * the ledger and announced like any other change), made at the alias revision the rollout last
 * left it at. Someone else changing the alias during a rollout ends the rollout (ABORTED): the
 * rollout never overrides a person. The rollout item and the alias are two items (no
 * transactions), so each change is ordered for recovery: a step is first recorded on the
 * rollout, then applied to the alias; if the writer dies in between, the next tick finds the
 * alias behind its step and applies it (`sync`).
 */
import { ConflictError, InvalidRequestError, isRefusal, NotFoundError, RevisionMismatchError } from '../errors.js';
import type { EventSink } from '../registry/events.js';
import type { AliasChange } from '../registry/registry.js';
import type { AliasRecord, AliasRoute, ModelVersion } from '../registry/types.js';
import { checkMetricGuard, judgeStep, type StepDecision } from './guards.js';
import { baselineRoutes, FINISHED_STATES, rolloutActor, stepReason, stepRoutes, type Rollout, type RolloutAction, type RolloutChanged, type RolloutGuards, type RolloutPlan } from './rollout.js';
import type { RegistryTable } from '../storage/table.js';
import { RolloutStore } from './rollout-store.js';
import type { VersionStats } from '../inference/telemetry/serving-stats.js';
import { firstWholeBucketFrom, ServingStatsStore } from '../inference/telemetry/serving-stats-store.js';

/** The registry calls rollouts make. */
export interface RolloutRegistry {
  getAlias(model: string, alias: string): Promise<AliasRecord>;
  getVersion(model: string, version: number): Promise<ModelVersion>;
  setAlias(model: string, alias: string, change: AliasChange): Promise<AliasRecord>;
}

/** What rollouts need. */
export interface RolloutDeps {
  readonly registry: RolloutRegistry;
  readonly rollouts: RolloutStore;
  /** The counters of the requests an alias sent to a version over a time window (`ServingStatsStore.window`). */
  readonly stats: (model: string, alias: string, version: number, from: Date, to: Date) => Promise<VersionStats>;
  readonly events: EventSink<RolloutChanged>;
  readonly now?: () => Date;
}

/** A rollout to start. */
export interface StartRollout {
  readonly candidate: number;
  readonly plan: RolloutPlan;
  readonly guards: RolloutGuards;
  readonly by: string;
  readonly reason: string;
  /** The alias revision the caller saw (`If-Match`). */
  readonly expectedRevision: number;
}

/** A person's pause, resume or abort. */
export interface RolloutCommand {
  readonly by: string;
  readonly reason: string;
}

const sameRoutes = (a: readonly AliasRoute[], b: readonly AliasRoute[]): boolean =>
  a.length === b.length && a.every((route, i) => route.version === b[i]?.version && route.weight === b[i]?.weight);

/** How the reason of an abort starts (in the ledger too, so a crashed abort is recognised). */
const ABORTED_BY = 'aborted by ';

const percentAt = (rollout: Rollout): number => (rollout.state === 'ROLLED_BACK' || rollout.state === 'ABORTED' ? 0 : rollout.plan.steps[rollout.step]!);

/** Starts, advances, pauses, resumes and aborts rollouts. */
export class Rollouts {
  private readonly now: () => Date;

  constructor(private readonly deps: RolloutDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Starts a rollout: the alias must route all its traffic to one version (the baseline), at
   * `expectedRevision` (RevisionMismatchError otherwise); the candidate must exist and pass the metric guard (ConflictError otherwise).
   * The first step is applied at once.
   */
  async start(model: string, alias: string, request: StartRollout): Promise<Rollout> {
    const { registry } = this.deps;
    const current = await registry.getAlias(model, alias);
    if (current.revision !== request.expectedRevision) {
      throw new RevisionMismatchError(`alias '${alias}' of model '${model}' is at revision ${current.revision}, not ${request.expectedRevision}; read it again and retry`);
    }
    if (current.routes.length !== 1) {
      throw new ConflictError(`alias '${alias}' splits traffic between ${current.routes.map((r) => `v${r.version}`).join(', ')}; point it at one version before a rollout`);
    }
    const baseline = current.routes[0]!.version;
    if (request.candidate === baseline) throw new InvalidRequestError(`version ${baseline} already serves alias '${alias}'; choose another candidate`);
    if (current.shadow?.version === request.candidate) {
      throw new ConflictError(`version ${request.candidate} shadows alias '${alias}'; remove the shadow (PUT the alias with "shadow": null) before rolling it out`);
    }
    const [baselineVersion, candidateVersion] = await Promise.all([registry.getVersion(model, baseline), registry.getVersion(model, request.candidate)]);
    if (request.guards.minMetric !== undefined) checkMetricGuard(request.guards.minMetric, baselineVersion, candidateVersion);
    const at = this.now().toISOString();
    const rollout: Rollout = {
      model,
      alias,
      id: `${model}/${alias}/${at}`,
      baseline,
      candidate: request.candidate,
      plan: request.plan,
      guards: request.guards,
      state: 'RUNNING',
      step: 0,
      stepStartedAt: at,
      baseRevision: current.revision,
      aliasRevision: current.revision,
      startedBy: request.by,
      reason: request.reason,
      startedAt: at,
      updatedAt: at,
      revision: 1,
    };
    await this.deps.rollouts.create(rollout);
    try {
      const moved = await this.moveAlias(rollout, stepRoutes(rollout, 0), stepReason(rollout, 0));
      const started = await this.save(rollout, { aliasRevision: moved.revision });
      await this.announce(started, 'started', request.by, request.reason);
      return started;
    } catch (error) {
      // A dependency failure may come after the move was written: the rollout stays RUNNING, and
      // the advancer's next run applies step 1 or takes over the move (`sync`).
      if (!isRefusal(error)) throw error;
      // The registry refused the move (changed meanwhile, or the candidate is unfit): nothing is rolling out.
      await this.save(rollout, { state: 'ABORTED', outcome: `could not move the alias: ${error.message}` });
      throw error;
    }
  }

  /** The alias's current or last rollout; NotFoundError if it never had one. */
  async get(model: string, alias: string): Promise<Rollout> {
    const found = await this.deps.rollouts.find(model, alias);
    if (found === undefined) throw new NotFoundError(`alias '${alias}' of model '${model}' has no rollout`);
    return found;
  }

  /** Holds a running rollout at its step: the advancer leaves it alone. */
  async pause(model: string, alias: string, command: RolloutCommand): Promise<Rollout> {
    const rollout = await this.active(model, alias, 'RUNNING', 'pause');
    const paused = await this.save(rollout, { state: 'PAUSED', lastCheck: undefined });
    await this.announce(paused, 'paused', command.by, command.reason);
    return paused;
  }

  /** Resumes a paused rollout: its step's bake time and counters start again from now. */
  async resume(model: string, alias: string, command: RolloutCommand): Promise<Rollout> {
    const rollout = await this.active(model, alias, 'PAUSED', 'resume');
    const resumed = await this.save(rollout, { state: 'RUNNING', stepStartedAt: this.now().toISOString() });
    await this.announce(resumed, 'resumed', command.by, command.reason);
    return resumed;
  }

  /**
   * Ends an active rollout and puts the alias back on the baseline (unless someone else has
   * changed the alias since the rollout's last move: then the alias is left as it is).
   */
  async abort(model: string, alias: string, command: RolloutCommand): Promise<Rollout> {
    const rollout = await this.active(model, alias, undefined, 'abort');
    const reason = `${ABORTED_BY}${command.by}${command.reason === '' ? '' : `: ${command.reason}`}`;
    const current = await this.findAlias(rollout);
    let outcome = reason;
    if (current === undefined) outcome = `${reason} (the alias no longer exists)`;
    else if (this.owns(rollout, current)) {
      const restored = await this.restoreBaseline({ ...rollout, aliasRevision: current.revision }, reason);
      if (typeof restored === 'string') outcome = `${reason} (the alias could not be put back on v${rollout.baseline}: ${restored}; it is left as it is)`;
    } else outcome = `${reason} (the alias was changed outside the rollout, at revision ${current.revision}, and is left as it is)`;
    const aborted = await this.save(rollout, { state: 'ABORTED', outcome });
    await this.announce(aborted, 'aborted', command.by, outcome);
    return aborted;
  }

  /** One pass of the advancer over every active rollout; returns the rollouts it changed. */
  async advanceAll(onError: (rollout: Rollout, error: unknown) => void): Promise<Rollout[]> {
    const changed: Rollout[] = [];
    for (const listed of await this.deps.rollouts.listActive()) {
      try {
        // The index is eventually consistent: act on the item itself.
        const rollout = await this.deps.rollouts.find(listed.model, listed.alias);
        if (rollout === undefined || rollout.state !== 'RUNNING') continue;
        const next = await this.advance(rollout);
        if (next.revision !== rollout.revision) changed.push(next);
      } catch (error) {
        onError(listed, error);
      }
    }
    return changed;
  }

  /** Checks one running rollout: brings the alias to its step, then judges the step from the candidate's counters. */
  async advance(rollout: Rollout): Promise<Rollout> {
    const synced = await this.sync(rollout);
    if (synced.state !== 'RUNNING') return synced;
    const now = this.now();
    // Only whole counter buckets after the step began: nothing from the step before (or from before the rollout).
    const [stats, baseline] = await Promise.all([
      this.deps.stats(synced.model, synced.alias, synced.candidate, firstWholeBucketFrom(new Date(synced.stepStartedAt)), now),
      this.deps.stats(synced.model, synced.alias, synced.baseline, firstWholeBucketFrom(new Date(synced.startedAt)), now),
    ]);
    const decision = judgeStep(synced, stats, baseline, now);
    const stepName = `step ${synced.step + 1} of ${synced.plan.steps.length} (${synced.plan.steps[synced.step]} %)`;
    const actor = rolloutActor(synced);
    if (decision.action === 'rollback') {
      const reason = `rolled back automatically at ${stepName}: ${decision.reason}`;
      const failed = await this.restoreBaseline(synced, reason);
      if (typeof failed === 'string') return this.stop(synced, `${reason}; but the alias could not be put back on v${synced.baseline}: ${failed}. It is left as it is: move it yourself`);
      const rolledBack = await this.save(synced, { state: 'ROLLED_BACK', outcome: reason, lastCheck: this.check(stats, decision) });
      await this.announce(rolledBack, 'rolledBack', actor, reason);
      return rolledBack;
    }
    if (decision.action === 'wait') return this.save(synced, { lastCheck: this.check(stats, decision) });
    if (synced.step + 1 === synced.plan.steps.length) {
      const outcome = `v${synced.candidate} serves all traffic; ${decision.reason}`;
      const done = await this.save(synced, { state: 'SUCCEEDED', outcome, lastCheck: this.check(stats, decision) });
      await this.announce(done, 'succeeded', actor, outcome);
      return done;
    }
    // Record the step first, then move the alias: a writer that dies in between is caught up by `sync`.
    const step = synced.step + 1;
    const next = await this.save(synced, { step, stepStartedAt: now.toISOString(), lastCheck: this.check(stats, decision) });
    const moved = await this.tryMoveAlias(next, stepRoutes(next, step), stepReason(next, step, decision.reason));
    if (typeof moved === 'string') return this.stop(next, `the alias could not be moved to step ${step + 1}: ${moved}; it stays at step ${step}`);
    const advanced = await this.save(next, { aliasRevision: moved.revision });
    await this.announce(advanced, 'advanced', actor, decision.reason);
    return advanced;
  }

  /**
   * Brings the alias to the rollout's step when the rollout's last writer died before it moved
   * it (or recorded the move); ends the rollout when someone else changed the alias.
   */
  private async sync(rollout: Rollout): Promise<Rollout> {
    const alias = await this.findAlias(rollout);
    if (alias === undefined) return this.stop(rollout, 'the alias was deleted; the rollout stopped');
    const wanted = stepRoutes(rollout, rollout.step);
    if (alias.revision === rollout.aliasRevision) {
      if (sameRoutes(alias.routes, wanted)) return rollout;
      const moved = await this.tryMoveAlias(rollout, wanted, stepReason(rollout, rollout.step));
      if (typeof moved === 'string') return this.stop(rollout, `the alias could not be moved to step ${rollout.step + 1}: ${moved}`);
      return this.save(rollout, { aliasRevision: moved.revision });
    }
    if (this.owns(rollout, alias)) {
      if (sameRoutes(alias.routes, wanted)) return this.save(rollout, { aliasRevision: alias.revision });
      // The rollout put the alias back on the baseline (an automatic rollback, or an abort) and died before recording it.
      if (sameRoutes(alias.routes, baselineRoutes(rollout))) {
        const aborted = alias.reason.startsWith(ABORTED_BY);
        const ended = await this.save(rollout, { state: aborted ? 'ABORTED' : 'ROLLED_BACK', aliasRevision: alias.revision, outcome: alias.reason });
        await this.announce(ended, aborted ? 'aborted' : 'rolledBack', rolloutActor(rollout), alias.reason);
        return ended;
      }
    }
    return this.stop(
      rollout,
      `the alias was changed outside the rollout (revision ${alias.revision} by ${alias.updatedBy}${alias.reason === '' ? '' : `: ${alias.reason}`}); the rollout stopped and left it as it is`,
    );
  }

  /** Ends a rollout as ABORTED without touching the alias, and says why. */
  private async stop(rollout: Rollout, outcome: string): Promise<Rollout> {
    const aborted = await this.save(rollout, { state: 'ABORTED', outcome });
    await this.announce(aborted, 'aborted', rolloutActor(rollout), outcome);
    return aborted;
  }

  /** The alias, or `undefined` once it was deleted. */
  private async findAlias(rollout: Rollout): Promise<AliasRecord | undefined> {
    try {
      return await this.deps.registry.getAlias(rollout.model, rollout.alias);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  /** Whether the alias is as the rollout last left it, or was last moved by the rollout itself (a writer that died before recording it). */
  private owns(rollout: Rollout, alias: AliasRecord): boolean {
    return alias.revision === rollout.aliasRevision || alias.updatedBy === rolloutActor(rollout);
  }

  /**
   * Moves the alias; a refusal that retrying cannot cure (the candidate or baseline archived, no
   * longer APPROVED where required, the alias gone: a refusal other than a revision mismatch) is
   * returned as its message, so the rollout ends instead of retrying for ever. A revision
   * mismatch (the alias changed meanwhile) and dependency failures are thrown: the next tick looks again.
   */
  private async tryMoveAlias(rollout: Rollout, routes: readonly AliasRoute[], reason: string, restores?: number): Promise<AliasRecord | string> {
    try {
      return await this.moveAlias(rollout, routes, reason, restores);
    } catch (error) {
      if (isRefusal(error) && !(error instanceof RevisionMismatchError)) return error.message;
      throw error;
    }
  }

  /** Puts the alias back on the baseline's routes as they were before the rollout (a `rollback` in the ledger). */
  private restoreBaseline(rollout: Rollout, reason: string): Promise<AliasRecord | string> {
    return this.tryMoveAlias(rollout, baselineRoutes(rollout), reason, rollout.baseRevision);
  }

  private moveAlias(rollout: Rollout, routes: readonly AliasRoute[], reason: string, restores?: number): Promise<AliasRecord> {
    return this.deps.registry.setAlias(rollout.model, rollout.alias, {
      routes,
      updatedBy: rolloutActor(rollout),
      reason,
      expectedRevision: rollout.aliasRevision,
      ...(restores === undefined ? {} : { restores }),
    });
  }

  private check(stats: VersionStats, decision: StepDecision) {
    return { at: this.now().toISOString(), requests: stats.requests, failures: decision.failures, verdict: decision.reason };
  }

  /** A running/paused rollout of the alias (`state` when given); NotFoundError or ConflictError otherwise. */
  private async active(model: string, alias: string, state: Rollout['state'] | undefined, what: string): Promise<Rollout> {
    const rollout = await this.get(model, alias);
    if (FINISHED_STATES.includes(rollout.state) || (state !== undefined && rollout.state !== state)) {
      throw new ConflictError(`the rollout of alias '${alias}' is ${rollout.state}; it cannot ${what}`);
    }
    return rollout;
  }

  /** Saves a change of the rollout; throws when another change got there first (the advancer skips the rollout until its next tick). */
  private async save(rollout: Rollout, change: Partial<Rollout>): Promise<Rollout> {
    // A change to `lastCheck: undefined` removes it (the document client drops undefined attributes).
    const next = { ...rollout, ...change, updatedAt: this.now().toISOString(), revision: rollout.revision + 1 } as Rollout;
    if (!(await this.deps.rollouts.update(next))) throw new RolloutChangedError(rollout);
    return next;
  }

  private announce(rollout: Rollout, action: RolloutAction, by: string, reason: string): Promise<void> {
    const { model, alias, id, baseline, candidate, state, step } = rollout;
    return this.deps.events.publish({ type: 'RolloutChanged', action, model, alias, id, baseline, candidate, state, step, percent: percentAt(rollout), by, reason });
  }
}

/** A conflict: the rollout changed between reading and saving it (another call or the advancer). */
export class RolloutChangedError extends ConflictError {
  constructor(rollout: Rollout) {
    super(`the rollout of alias '${rollout.alias}' of model '${rollout.model}' changed meanwhile; read it again`);
  }
}

/** Rollouts whose items and serving counters are on the registry table. */
export function rolloutsOnTable(table: RegistryTable, registry: RolloutRegistry, events: EventSink<RolloutChanged>): Rollouts {
  const stats = new ServingStatsStore(table);
  return new Rollouts({ registry, rollouts: new RolloutStore(table), stats: (...args) => stats.window(...args), events });
}
