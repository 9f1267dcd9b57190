import type { DeploymentRecord } from '../deploy-functions/core/ledger';
import type { AliasRouting } from '../deploy-functions/core/types';
import type { AliasStatus } from './operations';
import { aliasLabel, parseAlarmArn } from '../deploy-functions/core/names';

/** Renders rows as an aligned text table with a header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => (row[col] ?? '').length)));
  return all.map((row) => row.map((cell, col) => (cell ?? '').padEnd(widths[col]!)).join('  ').trimEnd()).join('\n');
}

/** `3` or `3 (90 %) + 4 (10 %)`. */
export function describeRouting(routing: AliasRouting): string {
  const extra = Object.entries(routing.weights);
  if (extra.length === 0) return routing.version;
  const shares = extra.map(([version, weight]) => `${version} (${Math.round(weight * 1000) / 10} %)`);
  const primary = Math.round((1 - extra.reduce((sum, [, w]) => sum + w, 0)) * 1000) / 10;
  return `${routing.version} (${primary} %) + ${shares.join(' + ')}`;
}

const duration = (seconds: number) => (seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`);

/** The status table: one row per function alias. */
export function statusTable(statuses: readonly AliasStatus[]): string {
  return table(
    ['FUNCTION', 'LIVE', 'CANDIDATE', 'DEPLOYMENT', 'ALARMS'],
    statuses.map((s) => {
      const deployment = s.inFlight
        ? `${s.inFlight.fromVersion}→${s.inFlight.toVersion} step ${s.inFlight.step}/${s.inFlight.steps}, ${s.inFlight.percentOnTarget} %${s.inFlight.secondsLeft !== undefined ? `, ${duration(s.inFlight.secondsLeft)} left` : ''}${s.inFlight.operatorRequest ? ` (${s.inFlight.operatorRequest} requested)` : ''}`
        : s.baking
          ? `baking until ${s.baking.until}`
          : '-';
      // A remote stage's alarms are known by ARN; its account and region are in the FUNCTION column already.
      const inAlarm = s.alarms.filter((a) => a.state === 'ALARM').map((a) => parseAlarmArn(a.name)?.name ?? a.name);
      const alarms = s.alarms.length === 0 ? 'none' : inAlarm.length ? `ALARM: ${inAlarm.join(', ')}` : `${s.alarms.length} OK`;
      return [aliasLabel(s), describeRouting(s.live), s.candidate ?? '-', deployment, alarms];
    }),
  );
}

/** The history table, newest first. */
export function historyTable(records: readonly DeploymentRecord[]): string {
  return table(
    ['STARTED', 'KIND', 'FROM', 'TO', 'STRATEGY', 'STATUS', 'COMMIT', 'REASON'],
    records.map((r) => [
      new Date(r.startedAt).toISOString().replace('.000Z', 'Z'),
      (r.kind ?? 'ROLLOUT').replace('_', ' ').toLowerCase(),
      r.fromVersion,
      r.toVersion,
      r.strategy,
      r.status,
      r.commit?.slice(0, 7) ?? '-',
      `${r.hotfixReason ? `hotfix "${r.hotfixReason}"; ` : ''}${r.reason ?? ''}`.slice(0, 100),
    ]),
  );
}
