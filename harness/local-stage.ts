// One stage of `npm run pipeline:local` in its moto account: what CloudFormation and the SAM template would do there,
// done through the Lambda and CloudWatch APIs (moto has no SAM transform): create each function with `live` and
// `candidate` on version 1 and, where traffic shifts, its generated alarms; publish a release and move `candidate`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CreateAliasCommand, CreateFunctionCommand, GetAliasCommand, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { DEFAULT_INSTALLATION, generatedAlarmName, stageFunctionName } from '../deploy-functions/core/names';
import { parseCfnYaml } from '../infra/templates/cfn-yaml';
import { templateTimeoutSeconds, type CfnTemplate } from '../infra/templates/application-template';
import type { FunctionSource } from '../scripts/lib/functions';
import type { MotoAccount } from './moto-accounts';
import { generatedAlarmTags } from './moto-fixtures';

/** The export Lambda calls in a function's bundle (`index.<export>`). */
export const exportOf = (fn: FunctionSource) => {
  const name = (fn as { exportName?: unknown }).exportName;
  return typeof name === 'string' ? name : 'handler';
};

/** Template-defined settings of a function, as its SAM template gives them (the function's own, else its Globals). */
export function templateSettings(root: string, name: string) {
  const template = parseCfnYaml(readFileSync(join(root, 'functions', name, 'template.yaml'), 'utf8')) as CfnTemplate & { Globals?: { Function?: Record<string, unknown> } };
  const globals = template.Globals?.Function ?? {};
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Serverless::Function')?.Properties ?? {};
  const environment = { ...(globals.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables, ...(fn.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables };
  const variables = Object.fromEntries(Object.entries(environment).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  return { timeout: templateTimeoutSeconds(template), memory: (fn.MemorySize ?? globals.MemorySize ?? 128) as number, variables };
}

/** A stage's functions in its account: deployed from `dist/<name>.zip`, released with versions described by `commit`. */
export class LocalStage {
  constructor(
    private readonly root: string,
    readonly name: string,
    readonly account: MotoAccount,
    private readonly commit: string,
  ) {}

  /** Creates every function with `live` and `candidate` on version 1, and with `alarms` its generated alarms in OK. */
  async deploy(applications: readonly FunctionSource[], options: { readonly alarms: boolean }): Promise<void> {
    const { lambda, cloudwatch, env } = this.account;
    await this.account.createRole('lrp-local-function', { Service: 'lambda.amazonaws.com' });
    for (const app of applications) {
      const functionName = stageFunctionName(app.name, this.name);
      const settings = templateSettings(this.root, app.name);
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: functionName,
          Runtime: 'nodejs24.x',
          Handler: `index.${exportOf(app)}`,
          Role: `arn:${env.partition}:iam::${env.account}:role/lrp-local-function`,
          Code: { ZipFile: readFileSync(join(this.root, 'dist', `${app.name}.zip`)) },
          Timeout: settings.timeout,
          MemorySize: settings.memory,
          Environment: { Variables: settings.variables },
        }),
      );
      const first = (await lambda.send(new PublishVersionCommand({ FunctionName: functionName, Description: `commit ${this.commit.slice(0, 12)} (release 0)` }))).Version!;
      await lambda.send(new CreateAliasCommand({ FunctionName: functionName, Name: 'live', FunctionVersion: first }));
      await lambda.send(new CreateAliasCommand({ FunctionName: functionName, Name: 'candidate', FunctionVersion: first }));
      if (!options.alarms) continue;
      // Generated alarms live in the stage's own account: they watch its metrics.
      for (const metric of ['errors', 'throttles', 'duration-p99']) {
        const alarmName = generatedAlarmName(DEFAULT_INSTALLATION, functionName, 'live', metric);
        await cloudwatch.send(
          new PutMetricAlarmCommand({
            AlarmName: alarmName,
            Namespace: 'AWS/Lambda',
            MetricName: metric === 'errors' ? 'Errors' : metric === 'throttles' ? 'Throttles' : 'Duration',
            Dimensions: [{ Name: 'FunctionName', Value: functionName }, { Name: 'Resource', Value: `${functionName}:live` }],
            Statistic: 'Sum',
            Period: 60,
            EvaluationPeriods: 1,
            Threshold: 5,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
            // As infra tags them: the rollback function trusts a generated name only with these tags.
            Tags: generatedAlarmTags(alarmName),
          }),
        );
        await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'OK', StateReason: 'deployed' }));
      }
    }
  }

  /** Publishes a new version of `name` described with the commit and points `candidate` at it, as the SAM template does. */
  async publish(name: string, release: number): Promise<string> {
    const functionName = stageFunctionName(name, this.name);
    const { lambda } = this.account;
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: functionName, Environment: { Variables: { ...templateSettings(this.root, name).variables, RELEASE: String(release) } } }));
    const version = (await lambda.send(new PublishVersionCommand({ FunctionName: functionName, Description: `commit ${this.commit.slice(0, 12)} (release ${release})` }))).Version!;
    await lambda.send(new UpdateAliasCommand({ FunctionName: functionName, Name: 'candidate', FunctionVersion: version }));
    return version;
  }

  /** The `live` alias of function `functionName` as this account and region see it: version and who moved it last, or absent. */
  async live(functionName: string): Promise<{ readonly version: string; readonly description: string } | 'absent'> {
    try {
      const read = await this.account.lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: 'live' }));
      return { version: read.FunctionVersion!, description: read.Description ?? '' };
    } catch (error) {
      if ((error as { name?: string }).name === 'ResourceNotFoundException') return 'absent';
      throw error;
    }
  }
}
