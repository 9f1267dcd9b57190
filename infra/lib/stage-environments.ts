import { envKey, functionArn, partitionOfRegion, stageFunctionName, type AwsEnv } from '../../deploy-functions/core/names';
import type { FieldIssue } from '../../deploy-functions/core/issues';
import { invalidConfiguration, type ReleaseConfig } from '../config';

/** The tooling stack's environment as the app resolved it: the account is unknown in an environment-agnostic synth. */
export interface ToolingEnvironment {
  readonly account?: string;
  readonly region?: string;
}

/** Where one stage deploys; `remote` when that is another account or region than the tooling stack's. */
export interface StageEnvironment extends AwsEnv {
  readonly remote: boolean;
}

/**
 * Which account and region each stage deploys to (its `account` / `region`, else the tooling stack's), and the target
 * environments that follows: every remote (account, region) once, sorted, each needing its target stack.
 */
export class StageEnvironments {
  /** Every environment outside the tooling one that a stage deploys to, sorted by account then region. */
  readonly targets: readonly AwsEnv[];
  private readonly byStage: ReadonlyMap<string, StageEnvironment>;

  /** Resolves every stage; a remote stage while the tooling account or region is unknown fails, naming the field. */
  static of(config: Pick<ReleaseConfig, 'stages'>, tooling: ToolingEnvironment): StageEnvironments {
    const issues: FieldIssue[] = [];
    const home = { account: tooling.account ?? '', region: tooling.region ?? '' };
    const stages = config.stages.map((stage, index): [string, StageEnvironment] => {
      for (const key of ['account', 'region'] as const) {
        if (stage[key] !== undefined && !home[key])
          issues.push({ path: ['stages', index, key], message: `a stage in another ${key} needs the tooling stack's ${key}: give it with context \`${key}\` (cdk synth -c ${key}=…)${key === 'account' ? ' or CDK_DEFAULT_ACCOUNT' : ' or AWS_REGION'}` });
      }
      const account = stage.account ?? home.account;
      const region = stage.region ?? home.region;
      // Roles are assumed, events forwarded and artifacts replicated only within one partition.
      if (stage.region !== undefined && home.region && partitionOfRegion(region) !== partitionOfRegion(home.region))
        issues.push({ path: ['stages', index, 'region'], message: `${region} is in partition ${partitionOfRegion(region)}, the tooling stack's ${home.region} in ${partitionOfRegion(home.region)}: a stage must be in the tooling stack's partition (install the release pipeline once per partition)` });
      return [stage.name, { account, region, partition: partitionOfRegion(region), remote: account !== home.account || region !== home.region }];
    });
    if (issues.length > 0) throw invalidConfiguration(issues);
    return new StageEnvironments(new Map(stages));
  }

  /** Every stage in the tooling account and region (tests and plans that know no environments). */
  static local(config: Pick<ReleaseConfig, 'stages'>): StageEnvironments {
    return new StageEnvironments(new Map(config.stages.map((stage) => [stage.name, { account: '', region: '', partition: 'aws', remote: false }])));
  }

  private constructor(byStage: ReadonlyMap<string, StageEnvironment>) {
    this.byStage = byStage;
    const remote = new Map([...byStage.values()].filter((env) => env.remote).map((env) => [envKey(env), { partition: env.partition, account: env.account, region: env.region }]));
    this.targets = [...remote.values()].sort((a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region));
  }

  /** The environment of a configured stage. */
  of(stage: string): StageEnvironment {
    const env = this.byStage.get(stage);
    if (!env) throw new Error(`no stage named ${stage}`);
    return env;
  }

  /** The stages that deploy to one target environment. */
  stagesIn(target: Pick<AwsEnv, 'account' | 'region'>): string[] {
    return [...this.byStage].filter(([, env]) => env.remote && envKey(env) === envKey(target)).map(([stage]) => stage);
  }

  /** How the deployment functions name a stage's function: its plain name at home, its ARN elsewhere. */
  functionRef(fnName: string, stage: string): string {
    const env = this.of(stage);
    const name = stageFunctionName(fnName, stage);
    return env.remote ? functionArn(env, name) : name;
  }

  /** `LRP_TARGET_ENVS`: the target environments as the deployment functions read them (JSON `[{account, region}]`). */
  get targetEnvsVariable(): string {
    return JSON.stringify(this.targets.map(({ account, region }) => ({ account, region })));
  }
}
