/**
 * What the qualifier written after the function (`${Fn.Arn}:live`, `hello-${Stage}:prod`) means for an invocation:
 * nothing (the unqualified function, $LATEST), the live alias, the template's own published alias (renamed by the
 * packager, so it meant the alias that takes traffic: live), or something the pipeline cannot route through live.
 */
import { CANDIDATE_ALIAS, LIVE_ALIAS, LIVE_ALIAS_ID } from './prepare-application';

/** The verdicts on a qualifier. */
export const QualifierVerdict = {
  /** No qualifier: the unqualified function, i.e. $LATEST. */
  Unqualified: 'unqualified',
  /** `live` already. */
  Live: 'live',
  /** The template's own AutoPublishAlias name (renamed `candidate` by the packager): it meant the alias taking traffic. */
  Renamed: 'renamed',
} as const;
export type QualifierVerdict = (typeof QualifierVerdict)[keyof typeof QualifierVerdict];

/** The verdict on `qualifier`, or why it cannot be pointed at live (a sentence naming the fix). */
export function qualifierVerdict(qualifier: string | undefined, publishedAlias: string | undefined, what: string): QualifierVerdict | { readonly problem: string } {
  if (qualifier === undefined || qualifier === '') return QualifierVerdict.Unqualified;
  if (qualifier === LIVE_ALIAS) return QualifierVerdict.Live;
  if (qualifier === publishedAlias && qualifier !== CANDIDATE_ALIAS) return QualifierVerdict.Renamed;
  const fix = `invoke the live alias instead (!Ref ${LIVE_ALIAS_ID}, or an Events: entry on the function)`;
  if (qualifier === '$LATEST') return { problem: `invokes ${what}:$LATEST, which bypasses the traffic shift (new code is there as soon as CloudFormation deploys it, before any canary or alarm): ${fix}` };
  if (qualifier === CANDIDATE_ALIAS) return { problem: `invokes ${what}:${CANDIDATE_ALIAS}, the alias every deploy moves before any traffic shift: ${fix}` };
  if (qualifier === '*') return { problem: `reaches every qualifier of ${what} (${CANDIDATE_ALIAS} and each version included), not only the alias taking traffic: name ${what}:${LIVE_ALIAS} instead` };
  if (/^[0-9]+$/.test(qualifier)) return { problem: `invokes the fixed version ${what}:${qualifier}, outside the traffic shift: ${fix}` };
  return { problem: `invokes ${what}:${qualifier}, an alias the release pipeline does not manage (the packaged template has ${CANDIDATE_ALIAS}, which every deploy moves, and ${LIVE_ALIAS}, which takes traffic): ${fix}` };
}
