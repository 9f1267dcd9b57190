/**
 * Finding and replacing references to resources inside CloudFormation values: `Ref`, `Fn::GetAtt` (both forms) and
 * the variables of `Fn::Sub` strings, however deep (OpenAPI bodies included). A reference inside a string being built
 * knows the qualifier written right after it (`${Fn.Arn}:live`, `Fn::Join [':', [!GetAtt Fn.Arn, live]]`), so that a
 * rewrite can replace the qualified expression as a whole.
 */

/** What a reference points at: a logical id, and the attribute for `Fn::GetAtt` / `${Id.Attr}`. */
export interface Reference {
  readonly logicalId: string;
  readonly attribute?: string;
  /** The text after `:` right behind the reference in a built string (`live` in `${Fn.Arn}:live`). @default - none */
  readonly qualifier?: string;
  /** Whether it is part of a string being built (`Fn::Sub` text or variable, `Fn::Join` element). @default false */
  readonly embedded?: boolean;
  /** The text of the `Fn::Sub` string right before the reference (`log-group:/aws/lambda/` in `…/aws/lambda/${Fn}`). @default - none */
  readonly precededBy?: string;
}

/** How to replace a reference: a new value for `Ref`/`Fn::GetAtt` objects, a new text for `Fn::Sub` variables. */
export interface Replacement {
  readonly value: unknown;
  readonly subText: string;
  /** The `:<qualifier>` after the reference is part of what is replaced. @default false */
  readonly replacesQualifier?: boolean;
}

type Replace = (reference: Reference) => Replacement | undefined;

const SUB_VARIABLE = /\$\{([^}!]+)\}/g;
const QUALIFIER = /^:(\$\{[^}]*\}|\$LATEST|[A-Za-z0-9_*-]*)/;

function parseSubVariable(name: string, context: Omit<Reference, 'logicalId' | 'attribute'> = {}): Reference {
  const [logicalId, ...attribute] = name.split('.');
  return { logicalId: logicalId!, ...(attribute.length ? { attribute: attribute.join('.') } : {}), ...context };
}

/** The `:<qualifier>` at the start of `rest`, if any. */
export function qualifierAt(rest: string): string | undefined {
  return QUALIFIER.exec(rest)?.[1];
}

/** A direct `Ref` / `Fn::GetAtt` object as a reference, else undefined. */
function directReference(node: unknown, context: Omit<Reference, 'logicalId' | 'attribute'>): Reference | undefined {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const entries = Object.entries(node as Record<string, unknown>);
  if (entries.length !== 1) return undefined;
  const [key, arg] = entries[0]!;
  // SAM's `!Ref Fn.Alias` / `!Ref Fn.Version` name an attribute inside a Ref.
  if (key === 'Ref' && typeof arg === 'string') return parseSubVariable(arg, context);
  if (key === 'Fn::GetAtt') {
    const [logicalId, ...attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
    return { logicalId: logicalId!, attribute: attribute.join('.'), ...context };
  }
  return undefined;
}

const contextOf = (qualifier: string | undefined, embedded: boolean) => ({ ...(qualifier !== undefined ? { qualifier } : {}), ...(embedded ? { embedded } : {}) });

/** Rewrites a `Fn::Sub` text: each `${…}` the replacer answers for, with its qualifier when the replacement says so. */
function rewriteSubText(text: string, variables: Record<string, unknown> | undefined, replace: Replace): string {
  let out = '';
  let from = 0;
  for (const match of text.matchAll(SUB_VARIABLE)) {
    const end = match.index + match[0].length;
    if (match.index < from) continue;
    const name = match[1]!;
    const qualifier = qualifierAt(text.slice(end));
    const replacement = variables && name in variables ? undefined : replace(parseSubVariable(name, { ...contextOf(qualifier, true), precededBy: text.slice(0, match.index) }));
    out += text.slice(from, match.index) + (replacement?.subText ?? match[0]);
    from = replacement?.replacesQualifier && qualifier !== undefined ? end + 1 + qualifier.length : end;
  }
  return out + text.slice(from);
}

/** Removes the `:<qualifier>` behind every `${name}` of a `Fn::Sub` text. */
const dropQualifierAfter = (text: string, name: string, qualifier: string) => text.split(`\${${name}}:${qualifier}`).join(`\${${name}}`);

/**
 * The value with every reference `replace` answers for replaced (`undefined`: left as it is). `Fn::Sub` variables
 * take the replacement's `subText`; a replacement that `replacesQualifier` takes the qualifier after it too.
 */
export function replaceReferences(value: unknown, replace: Replace): unknown {
  const visit = (node: unknown, embedded: boolean, qualifier?: string): unknown => {
    if (Array.isArray(node)) return node.map((child) => visit(child, embedded));
    if (node === null || typeof node !== 'object') return node;
    const direct = directReference(node, contextOf(qualifier, embedded));
    if (direct) return replace(direct)?.value ?? node;
    const entries = Object.entries(node as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(arg) ? (arg as [unknown, Record<string, unknown>?]) : [arg, undefined];
        if (typeof text !== 'string') return { 'Fn::Sub': visit(arg, true) };
        let rewritten = rewriteSubText(text, variables, replace);
        // `!Sub ${Fn.Arn}:live` rewritten as a whole is a plain reference.
        if (!variables) return rewritten !== text && /^\$\{[^}.!]+\}$/.test(rewritten) && !rewritten.includes('::') ? { Ref: rewritten.slice(2, -1) } : { 'Fn::Sub': rewritten };
        const newVariables: Record<string, unknown> = {};
        for (const [name, v] of Object.entries(variables)) {
          const after = text.indexOf(`\${${name}}`);
          const q = after < 0 ? undefined : qualifierAt(text.slice(after + name.length + 3));
          const ref = directReference(v, contextOf(q, true));
          const replacement = ref ? replace(ref) : undefined;
          if (replacement?.replacesQualifier && q !== undefined) rewritten = dropQualifierAfter(rewritten, name, q);
          newVariables[name] = ref ? (replacement?.value ?? v) : visit(v, true);
        }
        return { 'Fn::Sub': [rewritten, newVariables] };
      }
      if (key === 'Fn::Join' && Array.isArray(arg) && typeof arg[0] === 'string' && Array.isArray(arg[1])) {
        const list = rewriteJoin(arg[0], arg[1] as unknown[]);
        // `Join(':', [Fn.Arn, live])` rewritten as a whole is the one value left.
        return list.length === 1 && (arg[1] as unknown[]).length > 1 ? list[0] : { 'Fn::Join': [arg[0], list] };
      }
    }
    return Object.fromEntries(entries.map(([k, child]) => [k, visit(child, embedded)]));
  };
  /** A `Fn::Join` list with each reference's qualifier the element after it (`:` delimiter) or the `:…` that follows. */
  const rewriteJoin = (delimiter: string, list: readonly unknown[]): unknown[] => {
    const out: unknown[] = [];
    for (let i = 0; i < list.length; i++) {
      const next = list[i + 1];
      const q = typeof next !== 'string' ? undefined : delimiter === ':' ? next : delimiter === '' ? qualifierAt(next) : undefined;
      const ref = directReference(list[i], contextOf(q, true));
      if (!ref) {
        out.push(visit(list[i], true));
        continue;
      }
      const replacement = replace(ref);
      out.push(replacement?.value ?? list[i]);
      if (!replacement?.replacesQualifier || q === undefined) continue;
      if (delimiter === ':') i++;
      else {
        const rest = (next as string).slice(1 + q.length);
        i++;
        if (rest !== '') out.push(rest);
      }
    }
    return out;
  };
  return visit(value, false);
}

/** Every reference a value makes: `Ref`, `Fn::GetAtt`, and `${…}` variables of `Fn::Sub`, with their qualifiers. */
export function referencesIn(value: unknown): Reference[] {
  const found: Reference[] = [];
  replaceReferences(value, (reference) => void found.push(reference));
  return found;
}
