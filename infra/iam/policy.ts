/**
 * Enough of IAM's policy evaluation to answer "does this role allow that call?" offline: Allow and Deny statements,
 * Action/NotAction, Resource/NotResource with `*` and `?`, and the string, ARN and Bool condition operators (with
 * IfExists). Anything it does not understand counts against the caller: an Allow it cannot read does not allow, a
 * Deny it cannot read denies, so a sufficiency check built on it never passes by mistake.
 */

/** Stands for a part of a value that is not known before deploy (a generated name, an id): only `*` matches it. */
export const UNKNOWN = '\u0001';

/** One IAM policy statement, as templates write it. */
export interface IamStatement {
  readonly Effect: 'Allow' | 'Deny' | string;
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | boolean | readonly (string | boolean)[]>>>>;
}

/** One call a principal would make: the action, the resource it is authorised on, and its request context. */
export interface AccessRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
}

/** The outcome for one request. */
export type Decision = 'ALLOWED' | 'NOT_ALLOWED' | 'DENIED';

const list = <T>(value: T | readonly T[] | undefined): readonly T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value as T]);

/**
 * Whether an IAM pattern (`*` any run of characters, `?` one character) matches a value. An UNKNOWN part of the value
 * is matched only by `*`: the pattern must cover every name it could turn out to be.
 */
export function globMatches(pattern: string, value: string, caseInsensitive = false): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  // Iterative wildcard matching with backtracking to the last `*`.
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === v[vi] ? v[vi] !== UNKNOWN : p[pi] === '?' && v[vi] !== UNKNOWN)) {
      pi += 1;
      vi += 1;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi;
      mark = vi;
      pi += 1;
    } else if (star >= 0) {
      pi = star + 1;
      mark += 1;
      vi = mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi += 1;
  return pi === p.length;
}

type Operator = (expected: string, actual: string) => boolean;
const OPERATORS: Record<string, { test: Operator; negated: boolean }> = {
  StringEquals: { test: (e, a) => e === a && !a.includes(UNKNOWN), negated: false },
  StringNotEquals: { test: (e, a) => e !== a, negated: true },
  StringEqualsIgnoreCase: { test: (e, a) => e.toLowerCase() === a.toLowerCase() && !a.includes(UNKNOWN), negated: false },
  StringLike: { test: (e, a) => globMatches(e, a), negated: false },
  StringNotLike: { test: (e, a) => !globMatches(e, a), negated: true },
  ArnEquals: { test: (e, a) => e === a && !a.includes(UNKNOWN), negated: false },
  ArnLike: { test: (e, a) => globMatches(e, a), negated: false },
  ArnNotEquals: { test: (e, a) => e !== a, negated: true },
  ArnNotLike: { test: (e, a) => !globMatches(e, a), negated: true },
  Bool: { test: (e, a) => e.toLowerCase() === a.toLowerCase(), negated: false },
};

/** Whether a statement's conditions hold for a request; undefined when an operator is not understood. */
function conditionsHold(condition: IamStatement['Condition'], context: Readonly<Record<string, string>>): boolean | undefined {
  for (const [rawOperator, keys] of Object.entries(condition ?? {})) {
    const ifExists = rawOperator.endsWith('IfExists');
    const operator = OPERATORS[ifExists ? rawOperator.slice(0, -'IfExists'.length) : rawOperator];
    if (!operator) return undefined;
    for (const [key, expected] of Object.entries(keys)) {
      const actual = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
      if (actual === undefined) {
        // A missing key satisfies only IfExists and the negated operators.
        if (ifExists || operator.negated) continue;
        return false;
      }
      const values = list(expected).map(String);
      // Negated operators hold when the value matches none of the listed values; the others when it matches one.
      const holds = operator.negated ? values.every((value) => operator.test(value, actual)) : values.some((value) => operator.test(value, actual));
      if (!holds) return false;
    }
  }
  return true;
}

/** Whether a statement applies to a request: true, false, or undefined when its conditions cannot be read. */
function applies(statement: IamStatement, request: AccessRequest): boolean | undefined {
  const actionMatches = statement.Action !== undefined ? list(statement.Action).some((a) => globMatches(a, request.action, true)) : !list(statement.NotAction).some((a) => globMatches(a, request.action, true));
  if (!actionMatches) return false;
  const resourceMatches =
    statement.Resource !== undefined ? list(statement.Resource).some((r) => globMatches(r, request.resource)) : !list(statement.NotResource).some((r) => globMatches(r, request.resource));
  if (!resourceMatches) return false;
  return conditionsHold(statement.Condition, request.context ?? {});
}

/** IAM's answer for one request against one identity's statements: an explicit deny wins, then any allow. */
export function evaluate(statements: readonly IamStatement[], request: AccessRequest): Decision {
  let allowed = false;
  for (const statement of statements) {
    const verdict = applies(statement, request);
    if (statement.Effect === 'Deny' && verdict !== false) return 'DENIED';
    if (statement.Effect === 'Allow' && verdict === true) allowed = true;
  }
  return allowed ? 'ALLOWED' : 'NOT_ALLOWED';
}
