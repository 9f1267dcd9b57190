// Who runs an operator command, as the ledger records it.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { clientConfig } from '../deploy-functions/aws/client-config';

/** Where the recorded operator came from. */
export const IdentitySource = {
  /** The caller's AWS identity (STS GetCallerIdentity): an IAM user's or assumed role session's ARN. */
  STS: 'sts',
  /** The login name (`$USER`), when STS could not say: a fallback, since anyone can set it. */
  LOGIN: 'login',
} as const;
export type IdentitySource = (typeof IdentitySource)[keyof typeof IdentitySource];

export interface OperatorIdentity {
  /** The caller's ARN, e.g. `arn:aws:sts::123456789012:assumed-role/Admin/alice`; else the login name. */
  readonly operator: string;
  readonly source: IdentitySource;
}

/** Asks STS who the credentials belong to; falls back to `$USER` (then `$USERNAME`, then `operator`) if it cannot answer. */
export async function operatorIdentity(sts: Pick<STSClient, 'send'> = new STSClient(clientConfig()), env: NodeJS.ProcessEnv = process.env): Promise<OperatorIdentity> {
  try {
    const { Arn } = await sts.send(new GetCallerIdentityCommand({}));
    if (Arn) return { operator: Arn, source: IdentitySource.STS };
  } catch {
    // No credentials or no STS endpoint: the command itself will say so if it needs AWS; the login name stands in.
  }
  return { operator: env.USER ?? env.USERNAME ?? 'operator', source: IdentitySource.LOGIN };
}
