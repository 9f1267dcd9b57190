import type { CfnTemplate } from '../templates/application-template';
import { UNKNOWN } from './policy';

/** Where a template is deployed: what its pseudo parameters, parameters and imports stand for. */
export interface StackContext {
  readonly stackName: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly parameters?: Readonly<Record<string, string>>;
  /** Values of `Fn::ImportValue` names (other stacks' outputs, already resolved). @default - a symbol per name */
  readonly imports?: Readonly<Record<string, string>>;
  /**
   * How values only known after deploy (generated names, ids) read: `unknown` stands for "any value" (requirements:
   * a policy must cover every possibility); `symbol` gives each one a stable name (policies: the same reference on both
   * sides compares equal). @default 'unknown'
   */
  readonly unresolved?: 'unknown' | 'symbol';
}

/** A resource as a model sees it: its logical id, its properties with every intrinsic resolved, and its stack. */
export interface ModelInput {
  readonly logicalId: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly stack: StackContext;
  /** A name CloudFormation generates (`<stack>-<logical id>-<random>`), within `maxLength`. */
  generated(maxLength: number): string;
  /** A value only known after deploy (an id). */
  unknown(what: string): string;
}

/** How a resource type names itself: what `Ref` and `Fn::GetAtt` return. */
export interface NamingModel {
  /** What `Ref` returns. */
  ref(r: ModelInput): string;
  /** What `Fn::GetAtt` returns, by attribute name. */
  readonly attributes?: Readonly<Record<string, (r: ModelInput) => string>>;
}

/** Resolves CloudFormation intrinsic functions in a template to plain values. */
export class TemplateValues {
  private readonly resolving = new Set<string>();

  constructor(
    readonly template: CfnTemplate,
    readonly stack: StackContext,
    private readonly naming: (type: string) => NamingModel | undefined,
  ) {}

  /** A value only known after deploy: UNKNOWN, or a stable symbol. */
  unknown(what: string): string {
    // No `:` or `/` inside a symbol, so ARNs built from it split where they should.
    return this.stack.unresolved === 'symbol' ? `⟨${this.stack.stackName}~${what.replace(/[:/\s]/g, '~')}⟩` : UNKNOWN;
  }

  /** The resource as its model sees it. */
  input(logicalId: string): ModelInput {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`${this.stack.stackName}: no resource ${logicalId}`);
    if (this.resolving.has(logicalId)) throw new Error(`${this.stack.stackName}: ${logicalId} refers to itself`);
    this.resolving.add(logicalId);
    try {
      const properties = (this.value(resource.Properties ?? {}) ?? {}) as Record<string, unknown>;
      return {
        logicalId,
        properties,
        stack: this.stack,
        generated: (maxLength) => {
          if (this.stack.unresolved === 'symbol') return this.unknown(logicalId);
          const prefix = `${this.stack.stackName}-${logicalId}-`;
          // CloudFormation appends 12–13 random characters and shortens the rest when the name would be too long.
          return prefix.length + 13 <= maxLength ? `${prefix}${UNKNOWN}` : UNKNOWN;
        },
        unknown: (what) => this.unknown(`${logicalId}.${what}`),
      };
    } finally {
      this.resolving.delete(logicalId);
    }
  }

  /** What `Ref` of a parameter, pseudo parameter or resource is (`AWS::NoValue` reads as an empty string). */
  ref(name: string): string {
    if (name === 'AWS::NoValue') return '';
    const pseudo: Record<string, string> = {
      'AWS::Partition': this.stack.partition,
      'AWS::Region': this.stack.region,
      'AWS::AccountId': this.stack.account,
      'AWS::StackName': this.stack.stackName,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    if (name in pseudo) return pseudo[name]!;
    if (this.template.Parameters?.[name] !== undefined) {
      const value = this.stack.parameters?.[name] ?? this.template.Parameters[name].Default;
      return value === undefined ? this.unknown(`param:${name}`) : String(value);
    }
    const resource = this.template.Resources[name];
    if (!resource) throw new Error(`${this.stack.stackName}: Ref to unknown ${name}`);
    const model = this.naming(resource.Type);
    return model ? model.ref(this.input(name)) : this.unknown(name);
  }

  /** What `Fn::GetAtt` of a resource attribute is. */
  getAtt(logicalId: string, attribute: string): string {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`${this.stack.stackName}: GetAtt of unknown ${logicalId}`);
    const get = this.naming(resource.Type)?.attributes?.[attribute];
    return get ? get(this.input(logicalId)) : this.unknown(`${logicalId}.${attribute}`);
  }

  /** Resolves every intrinsic in a value, deeply. */
  value(value: unknown): unknown {
    const resolved = this.resolve(value);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /**
   * Whether a template condition holds: `true`/`false`, or `undefined` when it depends on a value only known after
   * deploy.
   */
  condition(name: string): boolean | undefined {
    const conditions = (this.template.Conditions ?? {}) as Record<string, unknown>;
    if (!(name in conditions)) throw new Error(`${this.stack.stackName}: no condition ${name}`);
    return this.holds(conditions[name]);
  }

  private holds(expression: unknown): boolean | undefined {
    const [key, arg] = Object.entries((expression ?? {}) as Record<string, unknown>)[0] ?? [];
    const all = (items: unknown) => (Array.isArray(items) ? items.map((item) => this.holds(item)) : [undefined]);
    switch (key) {
      case 'Condition':
        return this.condition(String(arg));
      case 'Fn::Equals': {
        const [left, right] = (arg as [unknown, unknown]).map((side) => this.string(side));
        return isKnown(left!) && isKnown(right!) ? left === right : undefined;
      }
      case 'Fn::Not': {
        const [inner] = all(arg);
        return inner === undefined ? undefined : !inner;
      }
      case 'Fn::And': {
        const parts = all(arg);
        return parts.includes(false) ? false : parts.includes(undefined) ? undefined : true;
      }
      case 'Fn::Or': {
        const parts = all(arg);
        return parts.includes(true) ? true : parts.includes(undefined) ? undefined : false;
      }
      default:
        return undefined;
    }
  }

  private resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      if (key === 'Ref' && arg === 'AWS::NoValue') return NO_VALUE;
      const resolved = this.intrinsic(key, arg);
      if (resolved !== NOT_INTRINSIC) return resolved;
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)] as const).filter(([, v]) => v !== NO_VALUE));
  }

  /** A value that must be a string. */
  string(value: unknown): string {
    const resolved = this.value(value);
    return typeof resolved === 'string' || typeof resolved === 'number' || typeof resolved === 'boolean' ? String(resolved) : this.unknown('value');
  }

  private intrinsic(key: string, arg: unknown): unknown {
    switch (key) {
      case 'Ref':
        return this.ref(String(arg));
      case 'Fn::GetAtt': {
        const [logicalId, ...attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
        return this.getAtt(logicalId!, attribute.join('.'));
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown];
        const resolved = this.value(parts);
        return Array.isArray(resolved) ? resolved.map((p) => this.string(p)).join(separator) : this.unknown('join');
      }
      case 'Fn::Sub': {
        const [text, variables] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
        return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
          if (name in variables) return this.string(variables[name]);
          if (name.includes('.')) {
            const [logicalId, ...attribute] = name.split('.');
            return this.getAtt(logicalId!, attribute.join('.'));
          }
          return this.ref(name);
        });
      }
      case 'Fn::Select': {
        const [index, items] = arg as [unknown, unknown];
        const resolved = this.value(items);
        return Array.isArray(resolved) ? resolved[Number(this.value(index))] : this.unknown('select');
      }
      case 'Fn::Split': {
        const [separator, text] = arg as [string, unknown];
        return this.string(text).split(separator);
      }
      case 'Fn::ImportValue': {
        const name = this.string(arg);
        return this.stack.imports?.[name] ?? `⟨import~${name.replace(/[:/]/g, '~')}⟩`;
      }
      case 'Fn::If': {
        // A condition that depends on a value only known after deploy takes the branch that sets something, so the
        // check covers the resource with the property rather than without it.
        const [name, whenTrue, whenFalse] = arg as [string, unknown, unknown];
        const holds = this.condition(name);
        if (holds !== undefined) return this.resolve(holds ? whenTrue : whenFalse);
        const [first, second] = [this.resolve(whenTrue), this.resolve(whenFalse)];
        return first === NO_VALUE ? second : first;
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = (arg as unknown[]).map((part) => this.string(part));
        const found = ((this.template.Mappings ?? {}) as Record<string, Record<string, Record<string, unknown>>>)[map!]?.[top!]?.[second!];
        return found === undefined ? this.unknown(`map:${map}`) : this.resolve(found);
      }
      case 'Fn::Base64':
        return this.string(arg);
      case 'Fn::GetAZs':
        return [this.unknown('az')];
      default:
        return NOT_INTRINSIC;
    }
  }
}

const NOT_INTRINSIC = Symbol('not an intrinsic');
/** `Ref: AWS::NoValue`: the property, or list item, is left out. */
const NO_VALUE = Symbol('AWS::NoValue');
/** Whether a resolved string holds no value only known after deploy. */
const isKnown = (text: string) => !text.includes(UNKNOWN) && !text.includes('⟨');
