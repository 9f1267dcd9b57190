import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { IdentitySource, operatorIdentity } from '../../cli/identity';

describe('the operator an lrp command records', () => {
  const sts = mockClient(STSClient);
  beforeEach(() => sts.reset());

  it('is the caller\'s AWS identity, whatever $USER says', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::123456789012:assumed-role/Admin/alice', Account: '123456789012' });
    expect(await operatorIdentity(new STSClient({}), { USER: 'mallory' })).toEqual({ operator: 'arn:aws:sts::123456789012:assumed-role/Admin/alice', source: IdentitySource.STS });
  });

  it('falls back to the login name when STS cannot answer, and says so', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    expect(await operatorIdentity(new STSClient({}), { USER: 'bob' })).toEqual({ operator: 'bob', source: IdentitySource.LOGIN });
    expect(await operatorIdentity(new STSClient({}), { USERNAME: 'carol' })).toEqual({ operator: 'carol', source: IdentitySource.LOGIN });
    expect(await operatorIdentity(new STSClient({}), {})).toEqual({ operator: 'operator', source: IdentitySource.LOGIN });
  });
});
