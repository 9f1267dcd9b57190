/**
 * The function named by its deployed name instead of a reference: `!Sub <name>-${Stage}`, or an ARN ending in
 * `function:<name>-${Stage}` (an OpenAPI integration URI, an IAM resource). Unqualified, that name is $LATEST: an
 * invoker written so reaches new code as soon as CloudFormation deploys it. Such names are found in `Fn::Sub` texts
 * whose variables leave `Stage` to the parameter.
 */
import { LIVE_ALIAS } from './prepare-application';
import { QualifierVerdict, qualifierVerdict } from './qualifiers';
import { qualifierAt } from './references';

/** What to do with the names found: point invocations at live, rename the old alias in what observes, or only check. */
export const LiteralNameMode = { Invoke: 'invoke', Observe: 'observe', Check: 'check' } as const;
export type LiteralNameMode = (typeof LiteralNameMode)[keyof typeof LiteralNameMode];

/** Where the function is, and what its template published before the packager renamed it. */
export interface LiteralNameOptions {
  /** The function's folder name: deployed as `<name>-${Stage}`. */
  readonly functionName: string;
  /** The logical id of the live alias. */
  readonly live: string;
  /** The template's own `AutoPublishAlias`. @default - none */
  readonly publishedAlias?: string;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The value with the function's deployed name rewritten as `mode` says, and one sentence per use that cannot be
 * pointed at live in `problems`. Invoke: the whole name or ARN becomes `!Ref` live, a name inside a longer text gets
 * `:live`, the old alias name becomes `live`. Observe: only the old alias name becomes `live`. Check: every use not on
 * live is a problem.
 */
export function rewriteLiteralNames(value: unknown, mode: LiteralNameMode, options: LiteralNameOptions, problems: string[]): unknown {
  const name = `${options.functionName}-\${Stage}`;
  const occurrence = new RegExp(`(^|function:)${escape(name)}(?![A-Za-z0-9_-])`, 'g');
  const wholeArn = new RegExp(`^arn:[^:]+:lambda:[^:]+:[^:]+:function:${escape(name)}$`);
  const rewriteText = (text: string): unknown => {
    if (mode === LiteralNameMode.Invoke && (text === name || wholeArn.test(text))) return { Ref: options.live };
    let out = '';
    let from = 0;
    for (const match of text.matchAll(occurrence)) {
      const end = match.index + match[0].length;
      const rest = text.slice(end);
      if (rest.startsWith('*')) continue; // a wildcard (IAM) covers live
      const qualifier = qualifierAt(rest);
      const verdict = qualifierVerdict(qualifier, options.publishedAlias, name);
      if (verdict === QualifierVerdict.Live) continue;
      if (typeof verdict === 'object') {
        if (mode !== LiteralNameMode.Observe) problems.push(verdict.problem);
        continue;
      }
      if (verdict === QualifierVerdict.Unqualified) {
        if (mode === LiteralNameMode.Check) problems.push(`names the function by its deployed name ${name} without a qualifier, i.e. $LATEST, which bypasses the traffic shift: write ${name}:${LIVE_ALIAS} or !Ref LiveAlias`);
        if (mode === LiteralNameMode.Invoke) {
          out += `${text.slice(from, end)}:${LIVE_ALIAS}`;
          from = end;
        }
        continue;
      }
      if (mode === LiteralNameMode.Check) problems.push(`names ${name}:${qualifier}, an alias the packager renames: write ${name}:${LIVE_ALIAS}`);
      else {
        out += `${text.slice(from, end)}:${LIVE_ALIAS}`;
        from = end + 1 + qualifier!.length;
      }
    }
    return out + text.slice(from);
  };
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (node === null || typeof node !== 'object') return node;
    const entries = Object.entries(node as Record<string, unknown>);
    if (entries.length === 1 && entries[0]![0] === 'Fn::Sub') {
      const arg = entries[0]![1];
      const [text, variables] = Array.isArray(arg) ? (arg as [unknown, Record<string, unknown>?]) : [arg, undefined];
      // A variables map that sets Stage names some other function.
      if (typeof text !== 'string' || (variables && 'Stage' in variables)) return { 'Fn::Sub': visit(arg) };
      const rewritten = rewriteText(text);
      if (typeof rewritten !== 'string') return rewritten;
      return { 'Fn::Sub': variables ? [rewritten, visit(variables)] : rewritten };
    }
    return Object.fromEntries(entries.map(([k, child]) => [k, visit(child)]));
  };
  return visit(value);
}
