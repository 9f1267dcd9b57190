/**
 * Which parts of a resource invoke the function, and which only name or observe it. Only the invoking parts are
 * pointed at `live` (and refused when they cannot be): a rule's or role's name built from the function's name, a
 * pattern watching it, a statement that only reads or configures it, or a log group named after it are left as written.
 */

/** Resource types whose references to the function are invocations (but for their naming parts): rewritten to `live`. */
export const INVOKER_TYPES: ReadonlySet<string> = new Set([
  'AWS::Lambda::Permission',
  'AWS::Lambda::EventSourceMapping',
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGateway::Method',
  'AWS::ApiGateway::Authorizer',
  'AWS::ApiGatewayV2::Api',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Authorizer',
  'AWS::Scheduler::Schedule',
  'AWS::SNS::Subscription',
  'AWS::SNS::Topic',
  'AWS::S3::Bucket',
  'AWS::IoT::TopicRule',
  'AWS::Cognito::UserPool',
  'AWS::AppSync::DataSource',
  'AWS::Pipes::Pipe',
  'AWS::Lambda::Url',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
]);

/** Resource types of which only some properties invoke the function; the others may name it (they observe it). */
export const INVOKING_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  'AWS::Logs::SubscriptionFilter': ['DestinationArn'],
  'AWS::CloudWatch::Alarm': ['AlarmActions', 'OKActions', 'InsufficientDataActions'],
  // A rule's EventPattern may watch the function (CloudTrail's requestParameters.functionName); its targets invoke.
  'AWS::Events::Rule': ['Targets'],
};

/** Settings of one qualifier (`Qualifier: <alias name>`): they follow traffic, from `candidate` to `live`. */
export const QUALIFIED_SETTINGS: ReadonlySet<string> = new Set(['AWS::Lambda::EventInvokeConfig', 'AWS::Lambda::Url']);
/** The properties of a qualified setting that name the function it configures (the rest may invoke it: destinations). */
export const QUALIFIED_SUBJECT = new Set(['FunctionName', 'TargetFunctionArn', 'Qualifier']);

/** Resource types that may name the function without invoking it (its logs, its metrics, its dashboards). */
export const OBSERVER_TYPES: ReadonlySet<string> = new Set(['AWS::Logs::LogGroup', 'AWS::Logs::MetricFilter', 'AWS::CloudWatch::Dashboard']);

/** Properties (at any depth) that name or describe something: a `:live` in them would make an invalid name. */
const NAMING_KEYS = new Set(['Name', 'RoleName', 'PolicyName', 'ManagedPolicyName', 'Description', 'Tags', 'Path', 'Id', 'Sid', 'StatementId', 'GroupName', 'DisplayName', 'TopicName', 'StageName']);

/** The actions that invoke a function; a statement allowing none of them (even through a wildcard) only reads or configures. */
const INVOKE_ACTIONS = ['lambda:InvokeFunction', 'lambda:InvokeAsync', 'lambda:InvokeFunctionUrl'];

const isIntrinsic = (node: object) => {
  const keys = Object.keys(node);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
};

/** Whether an IAM action (`lambda:Invoke*`, `*`, `lambda:?nvokeFunction`) covers an invoking action. */
const actionInvokes = (action: unknown) => {
  if (typeof action !== 'string') return true; // built at deploy: it may invoke
  const pattern = new RegExp(`^${action.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return INVOKE_ACTIONS.some((invoke) => pattern.test(invoke));
};

/** Whether an IAM policy statement may allow invoking (`NotAction` may). */
const statementInvokes = (statement: Record<string, unknown>) => statement.NotAction !== undefined || [statement.Action].flat().some(actionInvokes);

/**
 * The value with its invoking parts passed through `invoke` and its naming parts (names, descriptions, tags, policy
 * statements that cannot invoke) through `observe`. Intrinsic functions are invoking parts as a whole.
 */
export function mapInvokingParts(value: unknown, invoke: (part: unknown) => unknown, observe: (part: unknown) => unknown): unknown {
  if (Array.isArray(value)) return value.map((child) => mapInvokingParts(child, invoke, observe));
  if (value === null || typeof value !== 'object' || isIntrinsic(value)) return invoke(value);
  const node = value as Record<string, unknown>;
  if (node.Effect !== undefined && (node.Action !== undefined || node.NotAction !== undefined) && !statementInvokes(node)) return observe(node);
  return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, NAMING_KEYS.has(key) ? observe(child) : mapInvokingParts(child, invoke, observe)]));
}

/** Whether a reference is the function's name inside its log group's name or ARN (`/aws/lambda/${Fn}`): no invocation. */
export const inLogGroupName = (reference: { readonly precededBy?: string }) => /(\/aws\/lambda\/|log-group:[^:]*)$/.test(reference.precededBy ?? '');

/** Resource types whose `FunctionName` is always the function they invoke. */
const FUNCTION_NAME_TARGETS = new Set(['AWS::Lambda::Permission', 'AWS::Lambda::EventSourceMapping']);

/** The first intrinsic function in `value` the packager cannot read as a text or reference (`Fn::FindInMap`, `Fn::Select`, …). */
function unreadablePart(value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'number') return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'a value that is not a text';
  const [key, arg] = Object.entries(value)[0] ?? [];
  if (key === 'Ref' || key === 'Fn::GetAtt') return undefined;
  const parts = key === 'Fn::Sub' ? (Array.isArray(arg) ? [arg[0], ...Object.values((arg[1] ?? {}) as object)] : [arg]) : key === 'Fn::Join' && Array.isArray(arg) && Array.isArray(arg[1]) ? arg[1] : key === 'Fn::If' && Array.isArray(arg) ? arg.slice(1) : undefined;
  if (!parts) return key;
  return parts.map(unreadablePart).find((part) => part !== undefined);
}

/**
 * Why the function a resource invokes cannot be known (its `FunctionName` built with a lookup the packager does not
 * resolve), if so: it may be the function's deployed name, unqualified, which would invoke $LATEST.
 */
export function unknownTargetProblem(resource: { readonly Type: string; readonly Properties?: Record<string, unknown> }, live: string): string | undefined {
  if (!FUNCTION_NAME_TARGETS.has(resource.Type)) return undefined;
  const part = unreadablePart(resource.Properties?.FunctionName);
  if (part === undefined) return undefined;
  return `FunctionName is built with ${part}, which the packager cannot resolve, so it cannot tell whether this invokes the released function unqualified ($LATEST, outside the traffic shift): name the function with !Ref ${live} (or a !Sub text ending in :live), or write the other function's name out`;
}

/** The invoking parts of a value only (the naming parts as null): what must not reach the function but through live. */
export const invokingParts = (value: unknown) => mapInvokingParts(value, (part) => part, () => null);
