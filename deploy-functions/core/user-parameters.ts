import * as z from './zod';
import { CaseFormat } from './cases';
import { describeIssues } from './issues';
import { InvalidParametersError } from './errors';
import { PredefinedStrategy, resolveSteps, type StrategySpec } from './strategies';
import { WindowPolicySchema } from './window';
import { arnProblem, envKey, parseAlarmArn, parseFunctionArn } from './names';

/** Parses an action's UserParameters string against a schema; the error names every bad field. */
export function parseUserParameters<T extends z.ZodMiniType>(schema: T, raw: string | undefined): z.infer<T> {
  if (raw === undefined || raw.trim() === '') throw new InvalidParametersError('UserParameters: missing; the action needs a JSON object');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new InvalidParametersError(`UserParameters: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const fields = describeIssues(result.error.issues);
    throw new InvalidParametersError(`UserParameters: ${fields.join('; ')}`, { cause: result.error });
  }
  return result.data;
}

/**
 * A stage's function: its plain name in the tooling account and region, or its ARN when the stage is in another account
 * or region (the partition must be the region's).
 */
const functionName = z.string().check(
  z.superRefine((value, ctx) => {
    const problem = value.startsWith('arn:') ? (arnProblem(value, 'lambda') ?? (parseFunctionArn(value) ? undefined : 'must be an unqualified Lambda function ARN (…:function:<name>, no version or alias)')) : undefined;
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
    else if (!value.startsWith('arn:') && !/^[a-zA-Z0-9-_]{1,64}$/.test(value)) ctx.addIssue({ code: 'custom', message: 'must be a Lambda function name (letters, digits, - and _; at most 64) or a function ARN', input: value });
  }),
);
/** An alarm to watch: its name in the tooling account and region, or its ARN in the function's account and region. */
const alarmRef = z.string().check(
  z.minLength(1),
  z.maxLength(512),
  z.superRefine((value, ctx) => {
    const problem = arnProblem(value, 'cloudwatch');
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
    else if (!value.startsWith('arn:') && value.length > 255) ctx.addIssue({ code: 'custom', message: 'must be an alarm name of at most 255 characters, or an alarm ARN', input: value });
  }),
);
const aliasName = z.string().check(
  z.regex(/^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/, 'must be an alias name'),
  z.refine((value) => value !== '$LATEST', 'cannot be $LATEST'),
);
const versionNumber = z.string().check(z.regex(/^[0-9]+$/, 'must be a published version number ($LATEST cannot be shifted to)'));

/** A rollout strategy: a CodeDeploy predefined name or explicit steps. */
export const StrategySchema = z.union([
  z.enum(Object.values(PredefinedStrategy) as [PredefinedStrategy, ...PredefinedStrategy[]]),
  z.strictObject({
    steps: z.array(z.strictObject({ percent: z.number().check(z.gt(0), z.lt(100)), minutes: z.number().check(z.gte(0)) })).check(z.maxLength(50, 'at most 50 steps')),
  }),
]);

/** Defaults of the per-version analysis. */
export const DEFAULT_ANALYSIS = { maxErrorRateRatio: 2, minInvocations: 50, errorRateFloor: 0.01 } as const;
/** Default minutes the rollback function keeps watching after the alias reached 100 %. */
export const DEFAULT_BAKE_MINUTES = 10;

/** The per-version analysis options, each with its default; shared by UserParameters and the release configuration. */
export const AnalysisSchema = z._default(
  z.strictObject({
    /** The new version fails when its error rate exceeds this multiple of the old one's. @default 2 */
    maxErrorRateRatio: z._default(z.number().check(z.gte(1)), DEFAULT_ANALYSIS.maxErrorRateRatio),
    /** No verdict from metrics until the new version served this many invocations. @default 50 */
    minInvocations: z._default(z.number().check(z.int(), z.gte(1)), DEFAULT_ANALYSIS.minInvocations),
    /** Error rates at or below this fraction never fail, whatever the ratio. @default 0.01 */
    errorRateFloor: z._default(z.number().check(z.gte(0), z.lte(1)), DEFAULT_ANALYSIS.errorRateFloor),
  }),
  () => ({ ...DEFAULT_ANALYSIS }),
);

/**
 * UserParameters of the shift-traffic action.
 * @example {"functionName":"orders-api-prod","alias":"live","targetAlias":"candidate","strategy":"Canary10Percent5Minutes"}
 */
export const ShiftTrafficParametersSchema = z
  .strictObject({
    functionName,
    /** Alias to move. @default 'live' */
    alias: z._default(aliasName, 'live'),
    /** Version to move to; exactly one of targetVersion / targetAlias. */
    targetVersion: z.optional(versionNumber),
    /** Alias whose version to move to (usually `candidate`). */
    targetAlias: z.optional(aliasName),
    strategy: StrategySchema,
    /** CloudWatch alarms to watch beside the ones generated for the function. @default [] */
    alarms: z._default(z.array(alarmRef).check(z.maxLength(100)), []),
    /** Minutes after 100 % during which an alarm still rolls back. @default 10 */
    bakeMinutes: z._default(z.number().check(z.gte(0), z.lte(24 * 60)), DEFAULT_BAKE_MINUTES),
    /** New-vs-old error-rate comparison from per-version Lambda metrics. */
    analysis: AnalysisSchema,
    /** Commit being released, for the ledger. @default - read from the target version's description */
    commit: z.optional(z.string().check(z.maxLength(128))),
    /**
     * The pipeline execution running the action (the pipeline fills `#{codepipeline.PipelineExecutionId}`): when that
     * execution is stopped or abandoned, the rollback function reverts the deployment. @default - none
     */
    pipelineExecutionId: z.optional(z.string().check(z.maxLength(128))),
    /**
     * Why a forward release may go out while alarms are in ALARM (the pipeline fills it from its HotfixReason variable).
     * Empty: it may not. @default ''
     */
    hotfixReason: z.optional(z.string().check(z.maxLength(500))),
  })
  .check(
    z.refine((p) => (p.targetVersion === undefined) !== (p.targetAlias === undefined), {
      message: 'exactly one of targetVersion or targetAlias is required',
      path: ['targetVersion'],
    }),
    z.superRefine((p, ctx) => {
      // An alarm ARN is read through the function's environment: it must be there (a plain name is the tooling account's).
      const fn = parseFunctionArn(p.functionName)?.env;
      p.alarms.forEach((alarm, index) => {
        const env = parseAlarmArn(alarm)?.env;
        if (env && (!fn || envKey(env) !== envKey(fn) || env.partition !== fn.partition)) {
          ctx.addIssue({ code: 'custom', path: ['alarms', index], message: `alarm ARN in ${envKey(env)}: an alarm ARN must be in the account and region of the function ARN (${fn ? `${envKey(fn)}; an alarm of the tooling account is named by its name` : 'functionName is a plain name: use the alarm\'s name'})`, input: alarm });
        }
      });
    }),
    z.superRefine((p, ctx) => {
      try {
        resolveSteps(p.strategy as StrategySpec);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['strategy'], message: (error as Error).message.replace(/^strategy[^:]*: /, '') });
      }
    }),
  );
export type ShiftTrafficParameters = z.infer<typeof ShiftTrafficParametersSchema>;

/**
 * UserParameters of the integration-test action.
 * @example {"functionName":"orders-api-staging","qualifier":"candidate","casesPath":"functions/orders-api/integration"}
 * @example {"functionName":"hello-staging","qualifier":"candidate","casesPath":"functions/hello/events","cases":"events"}
 */
export const IntegrationTestParametersSchema = z.strictObject({
  functionName,
  /** Alias or version to invoke. */
  qualifier: z.union([aliasName, versionNumber]),
  /** Folder of the input artifact holding the `*.json` cases. */
  casesPath: z.string().check(
    z.regex(/^[\w.-]+(\/[\w.-]+)*$/, 'must be a relative folder such as functions/orders-api/integration'),
    z.refine((path) => !path.split('/').includes('..'), 'must not contain ..'),
  ),
  /**
   * What the `*.json` files under `casesPath` are: integration cases, or events (`events/*.json`) run as smoke cases.
   * @default 'cases'
   */
  cases: z._default(z.enum([CaseFormat.CASES, CaseFormat.EVENTS]), CaseFormat.CASES),
  /** Cases run at once. @default 4 */
  concurrency: z._default(z.number().check(z.int(), z.gte(1), z.lte(16)), 4),
  /** Input artifact holding the cases. @default - the action's first input artifact */
  artifact: z.optional(z.string().check(z.minLength(1))),
});
export type IntegrationTestParameters = z.infer<typeof IntegrationTestParametersSchema>;

/**
 * UserParameters of the deployment-window gate: the policy inline, or in an SSM parameter operators can change
 * without a deploy (which wins when both are given), and an optional SSM parameter holding an emergency override.
 * @example {"functionName":"orders-api-prod","policyParameter":"/lrp/deploy-window","overrideParameter":"/lrp/deploy-window/override"}
 */
export const DeployWindowParametersSchema = z
  .strictObject({
    functionName,
    policy: z.optional(WindowPolicySchema),
    policyParameter: z.optional(z.string().check(z.regex(/^\/?[\w./-]{1,2000}$/, 'must be an SSM parameter name'))),
    overrideParameter: z.optional(z.string().check(z.regex(/^\/?[\w./-]{1,2000}$/, 'must be an SSM parameter name'))),
  })
  .check(z.refine((p) => p.policy !== undefined || p.policyParameter !== undefined, { message: 'one of policy or policyParameter is required', path: ['policy'] }));
export type DeployWindowParameters = z.infer<typeof DeployWindowParametersSchema>;

/** The value of the override parameter: who lets releases through, why, and until when. */
export const WindowOverrideSchema = z.strictObject({
  by: z.string().check(z.minLength(1), z.maxLength(200)),
  reason: z.string().check(z.minLength(1), z.maxLength(1000)),
  /** ISO 8601 instant after which the override no longer applies. */
  expiresAt: z.iso.datetime({ offset: true }),
});
