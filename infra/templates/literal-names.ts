/**
 * The function named by its deployed name instead of a reference: `!Sub <name>-${Stage}`, or an ARN ending in
 * `function:<name>-${Stage}` (an OpenAPI integration URI, an IAM resource). Unqualified, that name is $LATEST: an
 * invoker written so reaches new code as soon as CloudFormation deploys it. Such names are found in `Fn::Sub` texts
 * whose variables leave `Stage` to the parameter, and in what is the same text written another way: a `Fn::Join` of
 * texts and references (`!Join ['-', [hello, !Ref Stage]]`), a `Fn::Sub` variable holding a text or reference.
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

/** A literal text as part of a `Fn::Sub` text (`${` must be written `${!`). */
const subLiteral = (text: string) => text.replace(/\$\{/g, '${!');

/**
 * A value built of texts and references as the `Fn::Sub` text it equals (`!Join ['-', [hello, !Ref Stage]]` is
 * `hello-${Stage}`), or undefined when some part is anything else (a condition, a lookup, a list function).
 */
function asSubText(node: unknown): string | undefined {
  if (typeof node === 'string') return subLiteral(node);
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const entries = Object.entries(node as Record<string, unknown>);
  if (entries.length !== 1) return undefined;
  const [key, arg] = entries[0]!;
  if (key === 'Ref' && typeof arg === 'string') return `\${${arg}}`;
  if (key === 'Fn::GetAtt') return `\${${Array.isArray(arg) ? arg.map(String).join('.') : String(arg)}}`;
  if (key === 'Fn::Sub') {
    if (typeof arg === 'string') return arg;
    const inlined = Array.isArray(arg) && typeof arg[0] === 'string' ? inlineSubVariables(arg[0], arg[1] as Record<string, unknown> | undefined) : undefined;
    return inlined && !inlined.rest ? inlined.text : undefined;
  }
  if (key !== 'Fn::Join' || !Array.isArray(arg) || typeof arg[0] !== 'string' || !Array.isArray(arg[1])) return undefined;
  const parts = (arg[1] as unknown[]).map(asSubText);
  return parts.every((part) => part !== undefined) ? parts.join(subLiteral(arg[0])) : undefined;
}

/** A `Fn::Sub` text with each variable that is a text or reference written into it; the variables left over. */
function inlineSubVariables(text: string, variables: Record<string, unknown> | undefined): { readonly text: string; readonly rest?: Record<string, unknown> } {
  if (!variables) return { text };
  const inline = Object.fromEntries(Object.entries(variables).flatMap(([name, value]) => {
    const asText = asSubText(value);
    return asText === undefined ? [] : [[name, asText]];
  }));
  const rest = Object.fromEntries(Object.entries(variables).filter(([name]) => !(name in inline)));
  const inlined = text.replace(/\$\{([^}!][^}]*)\}/g, (whole, name: string) => inline[name] ?? whole);
  return { text: inlined, ...(Object.keys(rest).length > 0 ? { rest } : {}) };
}

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
  // One stage's name written out (`hello-prod`, `…:function:hello-prod`) is that stage's function: unqualified, its $LATEST.
  const oneStage = new RegExp(`(^|function:)${escape(options.functionName)}-[a-z0-9][a-z0-9-]*(?=$|[/:])`, 'g');
  const checkOneStage = (text: string) => {
    if (mode !== LiteralNameMode.Invoke) return;
    for (const match of text.matchAll(oneStage)) {
      const written = match[0].slice(match[1]!.length);
      if (qualifierAt(text.slice(match.index + match[0].length)) === LIVE_ALIAS) continue;
      problems.push(`names ${written}, one stage's deployed function, without the ${LIVE_ALIAS} qualifier: in that stage it invokes $LATEST (or an alias the pipeline does not shift), outside the traffic shift; invoke !Ref LiveAlias (or ${name}:${LIVE_ALIAS}), or use an Events: entry on the function`);
    }
  };
  // Inside a longer value being built (a Join element, a Sub variable), the whole name is a part: it gets `:live`.
  const rewriteText = (text: string, embedded: boolean): unknown => {
    checkOneStage(text);
    if (mode === LiteralNameMode.Invoke && !embedded && (text === name || wholeArn.test(text))) return { Ref: options.live };
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
  const visit = (node: unknown, embedded: boolean): unknown => {
    if (Array.isArray(node)) return node.map((child) => visit(child, embedded));
    if (typeof node === 'string') checkOneStage(node);
    if (node === null || typeof node !== 'object') return node;
    const entries = Object.entries(node as Record<string, unknown>);
    if (entries.length === 1 && entries[0]![0] === 'Fn::Sub') {
      const arg = entries[0]![1];
      const [text, variables] = Array.isArray(arg) ? (arg as [unknown, Record<string, unknown>?]) : [arg, undefined];
      if (typeof text !== 'string') return { 'Fn::Sub': visit(arg, true) };
      // Written into the text, a variables map that sets Stage to something else names some other function.
      const inlined = inlineSubVariables(text, variables);
      const rewritten = rewriteText(inlined.text, embedded);
      if (rewritten === inlined.text) return variables ? { 'Fn::Sub': [text, visit(variables, true)] } : node;
      if (typeof rewritten !== 'string') return rewritten;
      return { 'Fn::Sub': inlined.rest ? [rewritten, visit(inlined.rest, true)] : rewritten };
    }
    if (entries.length === 1 && entries[0]![0] === 'Fn::Join') {
      // A Join of texts and references is read as the one text it builds; what names the function becomes a Fn::Sub.
      const text = asSubText(node);
      const rewritten = text === undefined ? undefined : rewriteText(text, embedded);
      if (rewritten !== undefined && rewritten !== text) return typeof rewritten === 'string' ? { 'Fn::Sub': rewritten } : rewritten;
      if (text !== undefined) return node;
      return { 'Fn::Join': visit(entries[0]![1], true) };
    }
    return Object.fromEntries(entries.map(([k, child]) => [k, visit(child, embedded)]));
  };
  return visit(value, false);
}
