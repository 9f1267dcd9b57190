// The safety invariants the property test checks after every scenario, each a function of what the model recorded:
// the alias change log (every write says who made it), the ledger's deployments, the jobs' results, the rollback
// function's actions. Each answers the violations it found, as sentences.
import { DeploymentKind, DeploymentStatus, type DeploymentRecord } from '../../deploy-functions/core/ledger';
import type { AliasChange, RecordedResult } from './fake-aws';

/** Who made an alias write, read back from its description. */
export interface Attributed extends AliasChange {
  readonly deploymentId: string;
  readonly kind: 'rollout' | 'undo' | 'manual';
  readonly by?: string;
}

/** Attributes every write to the deployment it belongs to; a write nobody claims is itself a violation. */
export function attribute(changes: readonly AliasChange[]): { writes: Attributed[]; violations: string[] } {
  const writes: Attributed[] = [];
  const violations: string[] = [];
  for (const change of changes) {
    const undo = /^lrp undo (\S+) \((.+)\)$/.exec(change.description ?? '');
    const manual = /^lrp manual rollback (\S+) \((.+)\)$/.exec(change.description ?? '');
    const rollout = /^lrp (\S+) (step \d+|complete)$/.exec(change.description ?? '');
    if (undo) writes.push({ ...change, deploymentId: undo[1]!, kind: 'undo', by: undo[2]! });
    else if (manual) writes.push({ ...change, deploymentId: manual[1]!, kind: 'manual', by: manual[2]! });
    else if (rollout) writes.push({ ...change, deploymentId: rollout[1]!, kind: 'rollout' });
    else violations.push(`an alias write at ${change.at} says nothing of who made it: ${change.description ?? '(no description)'}`);
  }
  return { writes, violations };
}

const routesTo = (change: AliasChange, version: string) => change.routing.version === version || (change.routing.weights[version] ?? 0) > 0;

/** (a) A version replaced by a rollback goes live again only through a new deployment of it. */
export function replacedStayReplaced(records: readonly DeploymentRecord[], writes: readonly Attributed[]): string[] {
  const replacements = records.flatMap((r) => [
    ...(r.status === DeploymentStatus.ROLLED_BACK && r.rolledBackAt !== undefined ? [{ version: r.toVersion, at: r.rolledBackAt, by: r.deploymentId }] : []),
    ...(r.kind === DeploymentKind.MANUAL_ROLLBACK && r.status === DeploymentStatus.SUCCEEDED ? [{ version: r.fromVersion, at: r.endedAt!, by: r.deploymentId }] : []),
  ]);
  return replacements.flatMap(({ version, at, by }) =>
    writes
      .filter((w) => w.at > at && routesTo(w, version))
      .filter((w) => !records.some((d) => d.toVersion === version && d.startedAt >= at && d.startedAt <= w.at && d.kind !== DeploymentKind.MANUAL_ROLLBACK))
      .map((w) => `version ${version}, replaced by ${by} at ${at}, was put live again at ${w.at} by ${w.kind} of ${w.deploymentId} without a new deployment of it`),
  );
}

/** (b) No alias stays split longer than ORPHAN_AFTER plus one sweep period (and the slack faults need) after its owner stopped. */
export function splitsEnd(writes: readonly Attributed[], records: readonly DeploymentRecord[], end: number, limitMs: number): string[] {
  return writes.flatMap((change, index) => {
    if (Object.values(change.routing.weights).every((w) => w === 0)) return [];
    const until = writes[index + 1]?.at ?? end;
    const owner = records.find((r) => r.deploymentId === change.deploymentId);
    const stopped = Math.max(change.at, owner?.heartbeatAt ?? change.at);
    return until - stopped > limitMs ? [`the alias stayed split from ${change.at} to ${until}, ${until - stopped} ms after its owner ${owner?.deploymentId ?? '?'} stopped (limit ${limitMs})`] : [];
  });
}

/** (c) The alias writes of two deployments never interleave: once another deployment wrote, an earlier one never writes again. */
export function writesDoNotInterleave(writes: readonly Attributed[]): string[] {
  const finished = new Set<string>();
  const violations: string[] = [];
  writes.forEach((write, index) => {
    const previous = writes[index - 1];
    if (previous && previous.deploymentId !== write.deploymentId) finished.add(previous.deploymentId);
    if (finished.has(write.deploymentId)) violations.push(`${write.deploymentId} wrote the alias at ${write.at} after another deployment had written it`);
  });
  return violations;
}

/** (d) One alarm event (however often delivered) causes at most one rollback. */
export function oneRollbackPerEvent(actions: readonly { readonly event: string; readonly action: string }[]): string[] {
  const counts = new Map<string, number>();
  for (const a of actions) if (a.action === 'ROLLED_BACK') counts.set(a.event, (counts.get(a.event) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([event, n]) => `event ${event} caused ${n} rollbacks`);
}

/** (e) Every job gets exactly one final result (none once its execution was abandoned), and a job that ended never moves traffic again. */
export function jobsEndOnce(jobs: readonly string[], abandoned: ReadonlySet<string>, finals: (jobId: string) => readonly RecordedResult[], records: readonly DeploymentRecord[], writes: readonly Attributed[]): string[] {
  return jobs.flatMap((jobId) => {
    const results = finals(jobId);
    const expected = abandoned.has(jobId) ? [0, 1] : [1];
    const count = expected.includes(results.length) ? [] : [`${jobId} got ${results.length} final results`];
    const ended = results[0]?.at;
    const deployment = records.find((r) => r.jobId === jobId);
    const late =
      ended === undefined || !deployment
        ? []
        : writes.filter((w) => w.deploymentId === deployment.deploymentId && w.at > ended && (w.kind === 'rollout' || w.by === 'shift-traffic')).map((w) => `${jobId} ended at ${ended} but its invocation moved the alias at ${w.at}`);
    return [...count, ...late];
  });
}

/**
 * (f) Every automatic rollback is announced exactly once: one ROLLED_BACK notice per deployment the pipeline itself
 * (shift-traffic, the rollback function, the sweep, a stopped execution) put back, none for an operator's, and none
 * for anything else — however often its events were delivered, replayed or retried.
 */
export function rollbacksAnnouncedOnce(records: readonly DeploymentRecord[], notices: readonly { readonly body: { readonly kind: string; readonly deploymentId: string | null; readonly cause: { readonly by: string } } }[]): string[] {
  const counts = new Map<string, number>();
  for (const n of notices) if (n.body.kind === 'ROLLED_BACK') counts.set(n.body.deploymentId ?? '?', (counts.get(n.body.deploymentId ?? '?') ?? 0) + 1);
  const automatic = records.filter((r) => r.status === DeploymentStatus.ROLLED_BACK && !(r.rolledBackBy ?? '').startsWith('operator:'));
  const missing = automatic.filter((r) => (counts.get(r.deploymentId) ?? 0) !== 1).map((r) => `${r.deploymentId}, rolled back by ${r.rolledBackBy}, was announced ${counts.get(r.deploymentId) ?? 0} times`);
  const stray = [...counts.keys()].filter((id) => !automatic.some((r) => r.deploymentId === id)).map((id) => `${id} was announced as rolled back, but the ledger says ${records.find((r) => r.deploymentId === id)?.status ?? 'nothing of it'}`);
  return [...missing, ...stray];
}
