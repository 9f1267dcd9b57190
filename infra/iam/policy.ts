/**
 * Enough of IAM's policy evaluation to answer "does this role allow that call?" offline: Allow and Deny statements,
 * Action/NotAction, Resource/NotResource with `*` and `?`, and the string, ARN, Bool and Null condition operators
 * (with IfExists). Anything it does not understand counts against the caller: an Allow it cannot read does not allow, a
 * Deny it cannot read denies, so a sufficiency check built on it never passes by mistake. The same holds for values
 * only known after deploy (UNKNOWN): an Allow must cover every name they could turn out to be, a Deny denies if any
 * could match.
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

/**
 * Whether some name an UNKNOWN part could turn out to be makes `pattern` match `value`: the test a Deny needs, which
 * must be assumed to apply unless it certainly cannot. Both sides may hold wildcards (`*`, `?` in the pattern; UNKNOWN,
 * any run of characters, in the value), so this searches the pairs of positions both can reach together.
 */
export function globMightMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  const seen = new Set<number>();
  const pending: [number, number][] = [[0, 0]];
  const visit = (i: number, j: number) => {
    const key = i * (v.length + 1) + j;
    if (!seen.has(key)) {
      seen.add(key);
      pending.push([i, j]);
    }
  };
  while (pending.length > 0) {
    const [i, j] = pending.pop()!;
    if (i === p.length && j === v.length) return true;
    const [pc, vc] = [p[i], v[j]];
    if (pc === '*') visit(i + 1, j); // `*` stands for nothing
    if (vc === UNKNOWN) visit(i, j + 1); // UNKNOWN stands for nothing
    if (pc === undefined || vc === undefined) continue;
    // Both sides produce one more character.
    if (pc === '*' && vc !== UNKNOWN) visit(i, j + 1);
    else if (pc !== '*' && vc === UNKNOWN) visit(i + 1, j);
    else if (pc === '?' || pc === vc) visit(i + 1, j + 1);
  }
  return false;
}

/**
 * How sure an answer must be. An Allow counts only if it `certainly` applies, whatever the unknown parts turn out to
 * be; a Deny counts if it `possibly` applies.
 */
type Certainty = 'certainly' | 'possibly';
const opposite = (certainty: Certainty): Certainty => (certainty === 'certainly' ? 'possibly' : 'certainly');
const escapeGlob = (text: string) => text.replace(/[*?]/g, (c) => (c === '*' ? '\u0002' : '\u0003'));

/** Whether `pattern` (`*`, `?`) matches `value` with the certainty asked for. */
function matches(pattern: string, value: string, certainty: Certainty, caseInsensitive = false): boolean {
  return certainty === 'certainly' ? globMatches(pattern, value, caseInsensitive) : globMightMatch(pattern, value, caseInsensitive);
}

/** Whether `expected`, a literal, equals `actual` with the certainty asked for. */
function equals(expected: string, actual: string, certainty: Certainty, caseInsensitive = false): boolean {
  const [e, a] = caseInsensitive ? [expected.toLowerCase(), actual.toLowerCase()] : [expected, actual];
  if (certainty === 'certainly') return e === a && !a.includes(UNKNOWN);
  // Wildcard characters in a literal are plain characters: mask them so they match only themselves.
  return globMightMatch(escapeGlob(e), escapeGlob(a));
}

interface Operator {
  /** Whether the un-negated operator holds for one expected value. */
  readonly test: (expected: string, actual: string, certainty: Certainty) => boolean;
  readonly negated: boolean;
}
const OPERATORS: Record<string, Operator> = {
  StringEquals: { test: (e, a, c) => equals(e, a, c), negated: false },
  StringNotEquals: { test: (e, a, c) => equals(e, a, c), negated: true },
  StringEqualsIgnoreCase: { test: (e, a, c) => equals(e, a, c, true), negated: false },
  StringNotEqualsIgnoreCase: { test: (e, a, c) => equals(e, a, c, true), negated: true },
  StringLike: { test: (e, a, c) => matches(e, a, c), negated: false },
  StringNotLike: { test: (e, a, c) => matches(e, a, c), negated: true },
  ArnEquals: { test: (e, a, c) => equals(e, a, c), negated: false },
  ArnLike: { test: (e, a, c) => matches(e, a, c), negated: false },
  ArnNotEquals: { test: (e, a, c) => equals(e, a, c), negated: true },
  ArnNotLike: { test: (e, a, c) => matches(e, a, c), negated: true },
  Bool: { test: (e, a, c) => equals(e, a, c, true), negated: false },
};

/** A request context value; condition keys are case-insensitive. */
const valueOf = (context: Readonly<Record<string, string>>, key: string) => Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];

/** Whether a statement's conditions hold for a request, with the certainty asked for; undefined when an operator is not understood. */
function conditionsHold(condition: IamStatement['Condition'], context: Readonly<Record<string, string>>, certainty: Certainty): boolean | undefined {
  for (const [rawOperator, keys] of Object.entries(condition ?? {})) {
    const ifExists = rawOperator.endsWith('IfExists');
    const operator = OPERATORS[ifExists ? rawOperator.slice(0, -'IfExists'.length) : rawOperator];
    if (rawOperator === 'Null') {
      // Null: "true" holds when the key is absent from the request, "false" when it is present.
      const absentWanted = Object.entries(keys).map(([key, expected]) => [String(expected).toLowerCase() === 'true', valueOf(context, key) === undefined] as const);
      if (!absentWanted.every(([wanted, absent]) => wanted === absent)) return false;
      continue;
    }
    if (!operator) return undefined;
    for (const [key, expected] of Object.entries(keys)) {
      const actual = valueOf(context, key);
      if (actual === undefined) {
        // A missing key satisfies only IfExists and the negated operators.
        if (ifExists || operator.negated) continue;
        return false;
      }
      const values = list(expected).map(String);
      // A negated operator holds when the value matches none of the listed values: certainly so when it cannot match
      // any, possibly so when it does not certainly match one. The others hold when it matches one.
      const holds = operator.negated ? !values.some((value) => operator.test(value, actual, opposite(certainty))) : values.some((value) => operator.test(value, actual, certainty));
      if (!holds) return false;
    }
  }
  return true;
}

/**
 * Whether a statement applies to a request with the certainty asked for: true, false, or undefined when it cannot be
 * read (an operator it does not understand; no Action/NotAction or no Resource/NotResource, which IAM refuses).
 */
function applies(statement: IamStatement, request: AccessRequest, certainty: Certainty): boolean | undefined {
  const inList = (patterns: string | readonly string[] | undefined, excluded: string | readonly string[] | undefined, value: string, caseInsensitive: boolean) => {
    if (patterns !== undefined) return list(patterns).some((p) => matches(p, value, certainty, caseInsensitive));
    if (excluded !== undefined) return !list(excluded).some((p) => matches(p, value, opposite(certainty), caseInsensitive));
    return undefined;
  };
  const action = inList(statement.Action, statement.NotAction, request.action, true);
  if (action !== true) return action;
  const resource = inList(statement.Resource, statement.NotResource, request.resource, false);
  if (resource !== true) return resource;
  return conditionsHold(statement.Condition, request.context ?? {}, certainty);
}

/** IAM's answer for one request against one identity's statements: an explicit deny wins, then any allow. */
export function evaluate(statements: readonly IamStatement[], request: AccessRequest): Decision {
  let allowed = false;
  for (const statement of statements) {
    if (statement.Effect === 'Deny' && applies(statement, request, 'possibly') !== false) return 'DENIED';
    if (statement.Effect === 'Allow' && applies(statement, request, 'certainly') === true) allowed = true;
  }
  return allowed ? 'ALLOWED' : 'NOT_ALLOWED';
}
