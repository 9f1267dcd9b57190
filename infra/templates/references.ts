/**
 * Finding and replacing references to resources inside CloudFormation values: `Ref`, `Fn::GetAtt` (both forms) and
 * the variables of `Fn::Sub` strings, however deep (OpenAPI bodies included).
 */

/** What a reference points at: a logical id, and the attribute for `Fn::GetAtt` / `${Id.Attr}`. */
export interface Reference {
  readonly logicalId: string;
  readonly attribute?: string;
}

/** How to replace a reference: a new value for `Ref`/`Fn::GetAtt` objects, a new text for `Fn::Sub` variables. */
export interface Replacement {
  readonly value: unknown;
  readonly subText: string;
}

const SUB_VARIABLE = /\$\{([^}!]+)\}/g;

function parseSubVariable(name: string): Reference {
  const [logicalId, ...attribute] = name.split('.');
  return { logicalId: logicalId!, ...(attribute.length ? { attribute: attribute.join('.') } : {}) };
}

/** Every reference a value makes, with where: `Ref`, `Fn::GetAtt`, and `${…}` variables of `Fn::Sub`. */
export function referencesIn(value: unknown): Reference[] {
  const found: Reference[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const entries = Object.entries(node as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      // SAM's `!Ref Fn.Alias` / `!Ref Fn.Version` name an attribute inside a Ref.
      if (key === 'Ref' && typeof arg === 'string') return void found.push(parseSubVariable(arg));
      if (key === 'Fn::GetAtt') {
        const [logicalId, ...attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
        return void found.push({ logicalId: logicalId!, attribute: attribute.join('.') });
      }
      if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(arg) ? (arg as [unknown, Record<string, unknown>?]) : [arg, undefined];
        if (typeof text === 'string') {
          for (const match of text.matchAll(SUB_VARIABLE)) if (!(variables && match[1]! in variables)) found.push(parseSubVariable(match[1]!));
        }
        if (variables) visit(variables);
        return;
      }
    }
    entries.forEach(([, child]) => visit(child));
  };
  visit(value);
  return found;
}

/**
 * The value with every reference `replace` answers for replaced (`undefined`: left as it is). `Fn::Sub` variables
 * take the replacement's `subText`.
 */
export function replaceReferences(value: unknown, replace: (reference: Reference) => Replacement | undefined): unknown {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (node === null || typeof node !== 'object') return node;
    const entries = Object.entries(node as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      if (key === 'Ref' && typeof arg === 'string') return replace(parseSubVariable(arg))?.value ?? node;
      if (key === 'Fn::GetAtt') {
        const [logicalId, ...attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
        return replace({ logicalId: logicalId!, attribute: attribute.join('.') })?.value ?? node;
      }
      if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(arg) ? (arg as [unknown, Record<string, unknown>?]) : [arg, undefined];
        const rewritten =
          typeof text === 'string'
            ? text.replace(SUB_VARIABLE, (whole, name: string) => (variables && name in variables ? whole : (replace(parseSubVariable(name))?.subText ?? whole)))
            : text;
        return { 'Fn::Sub': variables ? [rewritten, visit(variables)] : rewritten };
      }
    }
    return Object.fromEntries(entries.map(([k, child]) => [k, visit(child)]));
  };
  return visit(value);
}
