// IAM roles in moto, created in-process with one SigV4-signed query call: our SDK dependencies have no IAM client, and
// the AWS CLI (`aws iam create-role`) costs a Python start-up, about half a second, for every role a test creates.
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';

/** The keys a call is signed with: moto binds them to an account (the default one's `test` keys, or assumed-role keys). */
export interface MotoCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** A trust policy letting `principal` (`{ Service: 'lambda.amazonaws.com' }`, `{ AWS: '<arn>' }`) assume the role. */
export const trustPolicy = (principal: Record<string, string>) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }] });

/**
 * Creates role `roleName` in the account `credentials` belong to, on the moto server at `endpoint`; a role that
 * exists already is fine. Any other answer is thrown with moto's message.
 */
export async function createMotoRole(endpoint: string, credentials: MotoCredentials, roleName: string, assumeRolePolicyDocument: string): Promise<void> {
  const url = new URL(endpoint);
  const body = new URLSearchParams({ Action: 'CreateRole', Version: '2010-05-08', RoleName: roleName, AssumeRolePolicyDocument: assumeRolePolicyDocument }).toString();
  // IAM is global: its calls are signed for us-east-1.
  const signer = new SignatureV4({ service: 'iam', region: 'us-east-1', credentials, sha256: Sha256 });
  const request = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: '/',
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const signed = await signer.sign(request);
  const answer = await fetch(new URL('/', url), { method: 'POST', headers: signed.headers, body });
  const text = await answer.text();
  if (answer.ok || text.includes('<Code>EntityAlreadyExists</Code>')) return;
  throw new Error(`could not create role ${roleName} in moto (HTTP ${answer.status}): ${text.slice(0, 500)}`);
}
