import type { Handler } from './handler-permissions';
import type { ModelInput, NamingModel } from './template-values';

/** One authorisation a handler permission needs: the resource it is checked on and the request context. */
export interface Target {
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
}

/**
 * How a resource type names itself and where each of its handlers' permissions is aimed. The registry lists every
 * permission a handler may use; `targets` says which resource each is authorised on, and returns `[]` for the ones
 * a handler only calls when a property is set that this resource does not set (VPC, KMS, code signing, …).
 */
export interface ResourceModel extends NamingModel {
  /** The ARN most of the type's permissions are authorised on. */
  arn(r: ModelInput): string;
  /** Where a permission is aimed. @default - [{ resource: arn }] */
  targets?(action: string, r: ModelInput, handler: Handler): readonly Target[] | undefined;
}

const arn = (r: ModelInput, service: string, resource: string, region = r.stack.region, account = r.stack.account) => `arn:${r.stack.partition}:${service}:${region}:${account}:${resource}`;
const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const has = (r: ModelInput, property: string) => r.properties[property] !== undefined && r.properties[property] !== '';
const service = (action: string) => action.split(':')[0]!.toLowerCase();
const only = (condition: boolean, targets: readonly Target[]): readonly Target[] => (condition ? targets : []);
/** iam:PassRole of a role property to a service, or nothing when the property is not set. */
const passRole = (role: unknown, to: string): Target[] => (str(role) ? [{ resource: String(role), context: { 'iam:PassedToService': to } }] : []);
/** iam:GetRole of a role property, or nothing when the property is not set. */
const getRole = (role: unknown): Target[] => (str(role) ? [{ resource: String(role) }] : []);

/** A function's ARN from a name, a partial or a full ARN (qualified ARNs stay qualified). */
export function lambdaArn(r: ModelInput, nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? nameOrArn : arn(r, 'lambda', `function:${nameOrArn}`);
}
const functionName = (r: ModelInput) => str(r.properties.FunctionName) ?? r.generated(64);
/** A function's unqualified ARN, whatever qualifier `target` names. */
const unqualified = (r: ModelInput, target: string) => lambdaArn(r, target).split(':').slice(0, 7).join(':');
const qualified = (r: ModelInput, target: string) => `${unqualified(r, target)}:${r.unknown('qualifier')}`;

const lambdaFunction: ResourceModel = {
  ref: functionName,
  arn: (r) => lambdaArn(r, functionName(r)),
  attributes: { Arn: (r) => lambdaArn(r, functionName(r)) },
  targets(action, r) {
    const self = [{ resource: this.arn(r) }];
    const code = r.properties.Code as { S3Bucket?: string; S3Key?: string } | undefined;
    switch (action) {
      case 'iam:PassRole':
        return [{ resource: str(r.properties.Role) ?? r.unknown('role'), context: { 'iam:PassedToService': 'lambda.amazonaws.com' } }];
      case 's3:GetObject':
      case 's3:GetObjectVersion':
        return only(code?.S3Bucket !== undefined, [{ resource: `arn:${r.stack.partition}:s3:::${code?.S3Bucket}/${code?.S3Key}` }]);
      case 'lambda:GetCodeSigningConfig':
        return only(has(r, 'CodeSigningConfigArn'), [{ resource: String(r.properties.CodeSigningConfigArn) }]);
      case 'lambda:PutFunctionCodeSigningConfig':
      case 'lambda:DeleteFunctionCodeSigningConfig':
        return only(has(r, 'CodeSigningConfigArn'), self);
      case 'lambda:GetLayerVersion':
        return ((r.properties.Layers as string[] | undefined) ?? []).map((layer) => ({ resource: layer }));
      case 'lambda:PutFunctionConcurrency':
      case 'lambda:DeleteFunctionConcurrency':
        return only(has(r, 'ReservedConcurrentExecutions'), self);
      case 'lambda:PutRuntimeManagementConfig':
        return only(has(r, 'RuntimeManagementConfig'), self);
      case 'lambda:PutFunctionRecursionConfig':
        return only(has(r, 'RecursiveLoop'), self);
      case 'lambda:PutFunctionScalingConfig':
      case 'lambda:PassCapacityProvider':
        return only(has(r, 'CapacityProviderConfig'), [{ resource: '*' }]);
    }
    switch (service(action)) {
      case 'ec2':
        return only(has(r, 'VpcConfig'), [{ resource: '*' }]);
      case 'elasticfilesystem':
      case 's3files':
        return only(has(r, 'FileSystemConfigs'), [{ resource: '*' }]);
      case 'kms':
        return only(has(r, 'KmsKeyArn'), [{ resource: String(r.properties.KmsKeyArn) }]);
    }
    return self;
  },
};

const lambdaVersion: ResourceModel = {
  ref: (r) => qualified(r, String(r.properties.FunctionName)),
  arn: (r) => qualified(r, String(r.properties.FunctionName)),
  attributes: { Version: (r) => r.unknown('version') },
  targets(action, r) {
    const fn = [{ resource: lambdaArn(r, String(r.properties.FunctionName)) }];
    const version = [{ resource: this.arn(r) }];
    switch (action) {
      case 'lambda:PublishVersion':
      case 'lambda:ListVersionsByFunction':
        return fn;
      case 'lambda:PutRuntimeManagementConfig':
        return only(has(r, 'RuntimeManagementConfig'), fn);
      case 'lambda:PutProvisionedConcurrencyConfig':
        return only(has(r, 'ProvisionedConcurrencyConfig'), version);
      case 'lambda:PutFunctionScalingConfig':
        return only(has(r, 'FunctionScalingConfig'), version);
    }
    return version;
  },
};

const lambdaAlias: ResourceModel = {
  ref: (r) => `${lambdaArn(r, String(r.properties.FunctionName))}:${String(r.properties.Name)}`,
  arn: (r) => `${lambdaArn(r, String(r.properties.FunctionName))}:${String(r.properties.Name)}`,
  targets(action, r) {
    if (service(action) === 'codedeploy') return [];
    if (action === 'lambda:CreateAlias') return [{ resource: lambdaArn(r, String(r.properties.FunctionName)) }];
    if (action === 'lambda:PutProvisionedConcurrencyConfig' || action === 'lambda:DeleteProvisionedConcurrencyConfig') return only(has(r, 'ProvisionedConcurrencyConfig'), [{ resource: this.arn(r) }]);
    return [{ resource: this.arn(r) }];
  },
};

const lambdaPermission: ResourceModel = {
  ref: (r) => r.unknown('statement'),
  arn: (r) => lambdaArn(r, String(r.properties.FunctionName)),
  targets(action, r) {
    // Lambda authorises AddPermission with the principal the statement grants (lambda:Principal).
    // A function URL's permission also carries its auth type (lambda:FunctionUrlAuthType).
    const urlAuthType = str(r.properties.FunctionUrlAuthType);
    if (action === 'lambda:AddPermission') return [{ resource: this.arn(r), context: { 'lambda:Principal': String(r.properties.Principal ?? ''), ...(urlAuthType ? { 'lambda:FunctionUrlAuthType': urlAuthType } : {}) } }];
    return [{ resource: this.arn(r) }];
  },
};

const eventSourceMapping: ResourceModel = {
  ref: (r) => r.unknown('uuid'),
  arn: (r) => arn(r, 'lambda', `event-source-mapping:${r.unknown('uuid')}`),
  targets(action, r) {
    const functionArn = lambdaArn(r, String(r.properties.FunctionName));
    if (action === 'lambda:CreateEventSourceMapping') return [{ resource: '*', context: { 'lambda:FunctionArn': functionArn } }];
    if (/^lambda:(Get|Update|Delete)EventSourceMapping$/.test(action)) return [{ resource: this.arn(r), context: { 'lambda:FunctionArn': functionArn } }];
    if (service(action) === 'kms') return only(has(r, 'KmsKeyArn'), [{ resource: String(r.properties.KmsKeyArn) }]);
    return [{ resource: this.arn(r) }];
  },
};

const BOUNDARY_CONTEXT_ACTIONS = new Set(['iam:CreateRole', 'iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:PutRolePermissionsBoundary', 'iam:DetachRolePolicy', 'iam:DeleteRolePolicy']);
const roleName = (r: ModelInput) => str(r.properties.RoleName) ?? r.generated(64);
const iamRole: ResourceModel = {
  ref: roleName,
  arn: (r) => `arn:${r.stack.partition}:iam::${r.stack.account}:role${str(r.properties.Path) ?? '/'}${roleName(r)}`,
  attributes: { Arn: (r) => iamRole.arn(r), RoleId: (r) => r.unknown('id') },
  targets(action, r) {
    const boundary = str(r.properties.PermissionsBoundary);
    // IAM puts the role's boundary in the request context of the calls that can change its permissions.
    const context = boundary && BOUNDARY_CONTEXT_ACTIONS.has(action) ? { 'iam:PermissionsBoundary': boundary } : undefined;
    const self = [{ resource: this.arn(r), ...(context ? { context } : {}) }];
    switch (action) {
      case 'iam:AttachRolePolicy':
      case 'iam:DetachRolePolicy':
        return only(has(r, 'ManagedPolicyArns'), self);
      case 'iam:PutRolePolicy':
      case 'iam:GetRolePolicy':
      case 'iam:DeleteRolePolicy':
        return only(has(r, 'Policies'), self);
      case 'iam:PutRolePermissionsBoundary':
        return only(boundary !== undefined, self);
      case 'iam:DeleteRolePermissionsBoundary':
      case 'iam:UpdateAssumeRolePolicy':
        // The update handler calls these only to remove the boundary or to change who may assume the role, which the
        // pipelines never allow (a role that needs another trust is a new role).
        return [];
    }
    return self;
  },
};

const queueName = (r: ModelInput) => str(r.properties.QueueName) ?? r.generated(80);
const sqsQueue: ResourceModel = {
  ref: (r) => `https://sqs.${r.stack.region}.amazonaws.com/${r.stack.account}/${queueName(r)}`,
  arn: (r) => arn(r, 'sqs', queueName(r)),
  attributes: { Arn: (r) => arn(r, 'sqs', queueName(r)), QueueName: queueName, QueueUrl: (r) => sqsQueue.ref(r) },
};

const apiId = (r: ModelInput) => r.unknown('api id');
const httpApi: ResourceModel = {
  ref: apiId,
  arn: (r) => `arn:${r.stack.partition}:apigateway:${r.stack.region}::/apis/${apiId(r)}`,
  attributes: { ApiEndpoint: (r) => `https://${apiId(r)}.execute-api.${r.stack.region}.amazonaws.com`, ApiId: apiId },
  targets(action, r, handler) {
    if (service(action) === 's3') return only(has(r, 'BodyS3Location'), [{ resource: '*' }]);
    const tags = [{ resource: `arn:${r.stack.partition}:apigateway:${r.stack.region}::/tags/${r.unknown('api arn')}` }];
    // Create POSTs to the collection; tags live under /tags/<arn>; everything else is on the API and its sub-resources.
    if (handler === 'create' && action === 'apigateway:POST') return [{ resource: `arn:${r.stack.partition}:apigateway:${r.stack.region}::/apis` }];
    return [{ resource: this.arn(r) }, ...(['apigateway:PUT', 'apigateway:GET', 'apigateway:DELETE', 'apigateway:PATCH'].includes(action) ? tags : [])];
  },
};

/** Every IAM role a REST API's OpenAPI body has API Gateway assume (integration and authorizer credentials). */
function bodyCredentials(body: unknown): string[] {
  if (Array.isArray(body)) return body.flatMap(bodyCredentials);
  if (body === null || typeof body !== 'object') return [];
  return Object.entries(body).flatMap(([key, value]) => ((key === 'credentials' || key === 'authorizerCredentials') && typeof value === 'string' ? [value] : bodyCredentials(value)));
}
const apiGateway = (r: ModelInput, path: string) => `arn:${r.stack.partition}:apigateway:${r.stack.region}::${path}`;
const restApiPath = (r: ModelInput, id: unknown) => `/restapis/${str(id) ?? r.unknown('rest api id')}`;
const restApiTags = (r: ModelInput, action: string) => (['apigateway:PUT', 'apigateway:GET', 'apigateway:DELETE'].includes(action) ? [{ resource: apiGateway(r, `/tags/${r.unknown('arn')}`) }] : []);
/**
 * A REST API and its sub-resources: each is created by a POST to its collection, and everything else is aimed at
 * the resource itself (tags under /tags/<arn>).
 */
function restApiResource(collection: (r: ModelInput) => string, id: (r: ModelInput) => string, tagged: boolean): Required<Pick<ResourceModel, 'ref' | 'arn' | 'targets'>> {
  const arn = (r: ModelInput) => apiGateway(r, `${collection(r)}/${id(r)}`);
  return {
    ref: id,
    arn,
    targets: (action, r, handler) =>
      handler === 'create' && action === 'apigateway:POST' ? [{ resource: apiGateway(r, collection(r)) }] : [{ resource: arn(r) }, ...(tagged ? restApiTags(r, action) : [])],
  };
}
const restApiBase = restApiResource(() => '/restapis', (r) => r.unknown('rest api id'), true);
const restApi: ResourceModel = {
  ...restApiBase,
  attributes: { RestApiId: (r) => restApiBase.ref(r), RootResourceId: (r) => r.unknown('root resource id') },
  targets(action, r, handler) {
    const location = r.properties.BodyS3Location as { Bucket?: string; Key?: string } | undefined;
    switch (action) {
      case 's3:GetObject':
        return only(location !== undefined, [{ resource: `arn:${r.stack.partition}:s3:::${location?.Bucket ?? r.unknown('bucket')}/${location?.Key ?? r.unknown('key')}` }]);
      case 'iam:PassRole':
        // Only roles the body has API Gateway assume are passed; a body in S3 may name any.
        return [...(location ? [r.unknown('role')] : []), ...bodyCredentials(r.properties.Body)].map((role) => ({ resource: role, context: { 'iam:PassedToService': 'apigateway.amazonaws.com' } }));
      case 'apigateway:UpdateRestApiPolicy':
        return only(has(r, 'Policy'), [{ resource: restApiBase.arn(r) }]);
    }
    return restApiBase.targets(action, r, handler);
  },
};
const restApiDeployment = restApiResource((r) => `${restApiPath(r, r.properties.RestApiId)}/deployments`, (r) => r.unknown('deployment id'), false);
const restApiStage = restApiResource((r) => `${restApiPath(r, r.properties.RestApiId)}/stages`, (r) => str(r.properties.StageName) ?? r.unknown('stage name'), true);

const s3Bucket: ResourceModel = {
  ref: (r) => str(r.properties.BucketName) ?? r.generated(63).toLowerCase(),
  arn: (r) => `arn:${r.stack.partition}:s3:::${s3Bucket.ref(r)}`,
  attributes: { Arn: (r) => s3Bucket.arn(r) },
  targets(action, r) {
    // The only role a bucket passes is its replication role; S3 Tables are called only for a metadata table.
    if (action === 'iam:PassRole') return passRole((r.properties.ReplicationConfiguration as { Role?: unknown } | undefined)?.Role, 's3.amazonaws.com');
    if (service(action) === 's3tables') return only(has(r, 'MetadataTableConfiguration') || has(r, 'MetadataConfiguration'), [{ resource: '*' }]);
    return [{ resource: this.arn(r) }];
  },
};
const kmsKey: ResourceModel = {
  ref: (r) => r.unknown('key id'),
  arn: (r) => arn(r, 'kms', `key/${r.unknown('key id')}`),
  attributes: { Arn: (r) => kmsKey.arn(r), KeyId: (r) => r.unknown('key id') },
};
const snsTopic: ResourceModel = {
  ref: (r) => arn(r, 'sns', str(r.properties.TopicName) ?? r.generated(256)),
  arn: (r) => snsTopic.ref(r),
  attributes: { TopicArn: (r) => snsTopic.ref(r), TopicName: (r) => str(r.properties.TopicName) ?? r.generated(256) },
  targets(action, r) {
    // The only roles a topic passes are its delivery status logging roles.
    const logging = (r.properties.DeliveryStatusLogging as { SuccessFeedbackRoleArn?: unknown; FailureFeedbackRoleArn?: unknown }[] | undefined) ?? [];
    const roles = [...new Set(logging.flatMap((l) => [l.SuccessFeedbackRoleArn, l.FailureFeedbackRoleArn]).flatMap((role) => (str(role) ? [String(role)] : [])))];
    if (action === 'iam:PassRole') return roles.flatMap((role) => passRole(role, 'sns.amazonaws.com'));
    if (action === 'iam:GetRole') return roles.flatMap(getRole);
    return [{ resource: this.arn(r) }];
  },
};
const codeBuildProject: ResourceModel = {
  ref: (r) => str(r.properties.Name) ?? r.generated(150),
  arn: (r) => arn(r, 'codebuild', `project/${codeBuildProject.ref(r)}`),
  attributes: { Arn: (r) => codeBuildProject.arn(r) },
};

/** A KMS key's ARN from a key id, key ARN, alias name or alias ARN (an alias hides which key, so the key id is unknown). */
function kmsKeyArn(r: ModelInput, key: string): string {
  if (key.startsWith('arn:')) return key.includes(':alias/') ? `${key.slice(0, key.indexOf(':alias/'))}:key/${r.unknown('aliased key')}` : key;
  return arn(r, 'kms', `key/${key.startsWith('alias/') ? r.unknown('aliased key') : key}`);
}

/** The account's API Gateway settings: one per region, so every call is on /account. */
const apiGatewayAccount: ResourceModel = {
  ref: (r) => r.unknown('id'),
  arn: (r) => apiGateway(r, '/account'),
  targets(action, r) {
    const role = r.properties.CloudWatchRoleArn;
    if (action === 'iam:PassRole') return passRole(role, 'apigateway.amazonaws.com');
    if (action === 'iam:GetRole') return getRole(role);
    return [{ resource: this.arn(r) }];
  },
};
const restApiResourceBase = restApiResource((r) => `${restApiPath(r, r.properties.RestApiId)}/resources`, (r) => r.unknown('resource id'), false);
/** A REST API resource (path part): created by a POST to its parent resource. */
const restApiPathPart: ResourceModel = {
  ...restApiResourceBase,
  attributes: { ResourceId: (r) => restApiResourceBase.ref(r) },
  targets: (action, r, handler) =>
    handler === 'create' && action === 'apigateway:POST'
      ? [{ resource: apiGateway(r, `${restApiPath(r, r.properties.RestApiId)}/resources/${str(r.properties.ParentId) ?? r.unknown('parent id')}`) }]
      : restApiResourceBase.targets(action, r, handler),
};
/** A REST API method: the method, its integration and each method and integration response are resources of their own. */
const restApiMethod: ResourceModel = {
  ref: (r) => r.unknown('method id'),
  arn: (r) => apiGateway(r, `${restApiPath(r, r.properties.RestApiId)}/resources/${str(r.properties.ResourceId) ?? r.unknown('resource id')}/methods/${str(r.properties.HttpMethod) ?? r.unknown('verb')}`),
  targets(action, r) {
    const integration = r.properties.Integration as { Credentials?: string; IntegrationResponses?: { StatusCode?: string }[] } | undefined;
    if (action === 'iam:PassRole') return passRole(integration?.Credentials, 'apigateway.amazonaws.com');
    const method = this.arn(r);
    const responses = ((r.properties.MethodResponses as { StatusCode?: string }[] | undefined) ?? []).map((m) => `${method}/responses/${str(m.StatusCode) ?? r.unknown('status')}`);
    const integrationResponses = (integration?.IntegrationResponses ?? []).map((m) => `${method}/integration/responses/${str(m.StatusCode) ?? r.unknown('status')}`);
    return [method, ...(integration ? [`${method}/integration`] : []), ...responses, ...integrationResponses].map((resource) => ({ resource }));
  },
};

/** An HTTP API's sub-resource (`/apis/<id>/<collection>/<id>`), created by a POST to its collection. */
function httpApiPart(collection: string, id: (r: ModelInput) => string, tagged: boolean, attribute?: string): ResourceModel {
  const base = restApiResource((r) => `/apis/${str(r.properties.ApiId) ?? r.unknown('api id')}/${collection}`, id, false);
  return {
    ...base,
    ...(attribute ? { attributes: { [attribute]: base.ref } } : {}),
    targets(action, r, handler) {
      // Tags are under /tags/<arn> (POST to tag, DELETE to untag, GET to read); the tagging actions name no path.
      const tags = tagged && service(action) === 'apigateway' ? [{ resource: apiGateway(r, `/tags/${r.unknown('arn')}`) }] : [];
      if (action === 'iam:PassRole') return passRole(r.properties.CredentialsArn, 'apigateway.amazonaws.com');
      return [...(base.targets(action, r, handler) ?? []), ...tags];
    },
  };
}
const httpApiDeployment = httpApiPart('deployments', (r) => r.unknown('deployment id'), false, 'DeploymentId');
const httpApiIntegration = httpApiPart('integrations', (r) => r.unknown('integration id'), false, 'IntegrationId');
const httpApiRoute = httpApiPart('routes', (r) => r.unknown('route id'), false, 'RouteId');
const httpApiStage = httpApiPart('stages', (r) => str(r.properties.StageName) ?? r.unknown('stage name'), true);

const alarmName = (r: ModelInput) => str(r.properties.AlarmName) ?? r.generated(255);
const cloudWatchAlarm: ResourceModel = {
  ref: alarmName,
  arn: (r) => arn(r, 'cloudwatch', `alarm:${alarmName(r)}`),
  attributes: { Arn: (r) => cloudWatchAlarm.arn(r) },
  // DescribeAlarms offers no narrower resource than `*`.
  targets: (action, r) => [{ resource: action === 'cloudwatch:DescribeAlarms' ? '*' : cloudWatchAlarm.arn(r) }],
};

/** Table properties that need none of the optional calls (streaming to Kinesis, imports, KMS, service-linked roles). */
const PLAIN_TABLE_PROPERTIES = new Set([
  'TableName', 'AttributeDefinitions', 'KeySchema', 'BillingMode', 'ProvisionedThroughput', 'OnDemandThroughput', 'WarmThroughput', 'StreamSpecification', 'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes', 'SSESpecification', 'TimeToLiveSpecification', 'PointInTimeRecoverySpecification', 'Tags', 'DeletionProtectionEnabled', 'TableClass',
  'KinesisStreamSpecification', 'ImportSourceSpecification', 'ResourcePolicy',
]);
const tableName = (r: ModelInput) => str(r.properties.TableName) ?? r.generated(255);
const dynamoDbTable: ResourceModel = {
  ref: tableName,
  arn: (r) => arn(r, 'dynamodb', `table/${tableName(r)}`),
  attributes: { Arn: (r) => dynamoDbTable.arn(r), StreamArn: (r) => `${dynamoDbTable.arn(r)}/stream/${r.unknown('stream label')}` },
  targets(action, r) {
    const table = this.arn(r);
    const p = r.properties as { KinesisStreamSpecification?: { StreamArn?: string }; ImportSourceSpecification?: { S3BucketSource?: { S3Bucket?: string } }; SSESpecification?: { SSEEnabled?: unknown; KMSMasterKeyId?: string }; GlobalSecondaryIndexes?: { IndexName?: string }[] };
    const stream = p.KinesisStreamSpecification;
    const bucket = p.ImportSourceSpecification ? `arn:${r.stack.partition}:s3:::${str(p.ImportSourceSpecification.S3BucketSource?.S3Bucket) ?? r.unknown('bucket')}` : undefined;
    const encrypted = p.SSESpecification !== undefined && String(p.SSESpecification.SSEEnabled) !== 'false';
    switch (action) {
      case 'dynamodb:EnableKinesisStreamingDestination':
      case 'dynamodb:DisableKinesisStreamingDestination':
      case 'dynamodb:UpdateKinesisStreamingDestination':
        return only(stream !== undefined, [{ resource: table }]);
      case 'dynamodb:ImportTable':
        return only(bucket !== undefined, [{ resource: table }]);
      case 'dynamodb:DescribeImport':
        return only(bucket !== undefined, [{ resource: `${table}/import/${r.unknown('import id')}` }]);
      case 'dynamodb:PutResourcePolicy':
      case 'dynamodb:DeleteResourcePolicy':
        return only(has(r, 'ResourcePolicy'), [{ resource: table }]);
      case 'dynamodb:UpdateContributorInsights':
      case 'dynamodb:DescribeContributorInsights':
        return [table, ...(p.GlobalSecondaryIndexes ?? []).map((index) => `${table}/index/${str(index.IndexName) ?? r.unknown('index')}`)].map((resource) => ({ resource }));
      case 'iam:CreateServiceLinkedRole': {
        // Contributor Insights (and whatever a property not known here turns on) creates DynamoDB's service-linked role.
        const unknownProperty = Object.keys(r.properties).some((name) => !PLAIN_TABLE_PROPERTIES.has(name));
        const insights = (p.GlobalSecondaryIndexes ?? []).some((index) => (index as { ContributorInsightsSpecification?: unknown }).ContributorInsightsSpecification !== undefined);
        const principal = 'contributorinsights.dynamodb.amazonaws.com';
        return only(unknownProperty || insights, [{ resource: `arn:${r.stack.partition}:iam::${r.stack.account}:role/aws-service-role/${principal}/AWSServiceRoleForDynamoDBCloudWatchContributorInsights`, context: { 'iam:AWSServiceName': principal } }]);
      }
      case 's3:ListBucket':
        return only(bucket !== undefined, [{ resource: bucket! }]);
      case 'kms:ListAliases':
        return only(encrypted, [{ resource: '*' }]);
    }
    switch (service(action)) {
      case 'kinesis':
        return only(stream !== undefined, [{ resource: str(stream?.StreamArn) ?? r.unknown('stream') }]);
      case 's3':
        return only(bucket !== undefined, [{ resource: `${bucket}/${r.unknown('key')}` }]);
      case 'logs':
        // An import logs to a log group DynamoDB names.
        return only(bucket !== undefined, [{ resource: arn(r, 'logs', `log-group:${r.unknown('import log group')}`) }]);
      case 'kms':
        return only(encrypted, [{ resource: kmsKeyArn(r, str(p.SSESpecification?.KMSMasterKeyId) ?? 'alias/aws/dynamodb') }]);
    }
    return [{ resource: table }];
  },
};

/** A rule on the default bus is `rule/<name>`, on another bus `rule/<bus>/<name>` (a bus may be given by ARN). */
const ruleName = (r: ModelInput) => str(r.properties.Name) ?? r.generated(64);
const ruleBus = (r: ModelInput) => {
  const bus = str(r.properties.EventBusName)?.split('event-bus/').pop();
  return bus === undefined || bus === 'default' ? undefined : bus;
};
const eventsRule: ResourceModel = {
  ref: (r) => (ruleBus(r) ? `${ruleBus(r)}|${ruleName(r)}` : ruleName(r)),
  arn: (r) => arn(r, 'events', `rule/${ruleBus(r) ? `${ruleBus(r)}/` : ''}${ruleName(r)}`),
  attributes: { Arn: (r) => eventsRule.arn(r) },
  targets(action, r) {
    if (action === 'iam:PassRole') {
      const targets = (r.properties.Targets as { RoleArn?: unknown }[] | undefined) ?? [];
      return [r.properties.RoleArn, ...targets.map((t) => t.RoleArn)].flatMap((role) => passRole(role, 'events.amazonaws.com'));
    }
    return [{ resource: this.arn(r) }];
  },
};

const policyName = (r: ModelInput) => str(r.properties.ManagedPolicyName) ?? r.generated(128);
/** IAM principals are named in the policy without their path, so the path is unknown (`/` unless the principal says). */
const principalArn = (r: ModelInput, kind: string, name: unknown) => `arn:${r.stack.partition}:iam::${r.stack.account}:${kind}/${r.unknown('path')}${String(name)}`;
const iamManagedPolicy: ResourceModel = {
  ref: (r) => iamManagedPolicy.arn(r),
  arn: (r) => `arn:${r.stack.partition}:iam::${r.stack.account}:policy${str(r.properties.Path) ?? '/'}${policyName(r)}`,
  attributes: { PolicyArn: (r) => iamManagedPolicy.arn(r), PolicyId: (r) => r.unknown('policy id') },
  targets(action, r) {
    const attached = (property: string, kind: string) => ((r.properties[property] as unknown[] | undefined) ?? []).map((name) => ({ resource: principalArn(r, kind, name) }));
    if (/^iam:(Attach|Detach)RolePolicy$/.test(action)) return attached('Roles', 'role');
    if (/^iam:(Attach|Detach)GroupPolicy$/.test(action)) return attached('Groups', 'group');
    if (/^iam:(Attach|Detach)UserPolicy$/.test(action)) return attached('Users', 'user');
    return [{ resource: this.arn(r) }];
  },
};

/** A function's ARN with the qualifier a resource configures (`Qualifier`, else the one its ARN names, if any). */
const qualifiedBy = (r: ModelInput, target: string, qualifier: unknown) => (str(qualifier) ? `${unqualified(r, target)}:${String(qualifier)}` : lambdaArn(r, target));
const eventInvokeConfig: ResourceModel = {
  ref: (r) => r.unknown('id'),
  arn: (r) => qualifiedBy(r, String(r.properties.FunctionName), r.properties.Qualifier),
};
const functionUrl: ResourceModel = {
  ref: (r) => functionUrl.arn(r),
  arn: (r) => qualifiedBy(r, String(r.properties.TargetFunctionArn), r.properties.Qualifier),
  attributes: { FunctionArn: (r) => lambdaArn(r, String(r.properties.TargetFunctionArn)), FunctionUrl: (r) => `https://${r.unknown('url id')}.lambda-url.${r.stack.region}.on.aws/` },
  targets(action, r) {
    // Lambda authorises creating and changing a URL with its auth type (lambda:FunctionUrlAuthType).
    const authType = str(r.properties.AuthType);
    const context = authType && /^lambda:(Create|Update)FunctionUrlConfig$/.test(action) ? { context: { 'lambda:FunctionUrlAuthType': authType } } : {};
    return [{ resource: this.arn(r), ...context }];
  },
};

const logGroupName = (r: ModelInput) => str(r.properties.LogGroupName) ?? r.generated(512);
/** A log group is authorised as `log-group:<name>` by some calls and `log-group:<name>:*` by others: both are needed. */
const logGroup: ResourceModel = {
  ref: logGroupName,
  arn: (r) => arn(r, 'logs', `log-group:${logGroupName(r)}:*`),
  attributes: { Arn: (r) => logGroup.arn(r) },
  targets(action, r) {
    const self = [{ resource: arn(r, 'logs', `log-group:${logGroupName(r)}`) }, { resource: this.arn(r) }];
    const protection = has(r, 'DataProtectionPolicy');
    switch (action) {
      case 'logs:DescribeLogGroups':
      case 'logs:DescribeResourcePolicies':
        // Listing calls: no resource narrower than `*`.
        return action === 'logs:DescribeLogGroups' || protection || has(r, 'ResourcePolicyDocument') ? [{ resource: '*' }] : [];
      case 'logs:PutResourcePolicy':
        return only(protection || has(r, 'ResourcePolicyDocument'), [{ resource: '*' }]);
      case 'logs:PutDataProtectionPolicy':
      case 'logs:DeleteDataProtectionPolicy':
        return only(protection, self);
      case 'logs:CreateLogDelivery':
      case 's3:REST.PUT.OBJECT':
      case 'firehose:TagDeliveryStream':
        // Only for a data protection policy's audit destinations, which can be anything.
        return only(protection, [{ resource: '*' }]);
      case 'logs:AssociateKmsKey':
      case 'logs:DisassociateKmsKey':
        return only(has(r, 'KmsKeyId'), self);
    }
    return self;
  },
};

const subscriptionTopic = (r: ModelInput) => str(r.properties.TopicArn) ?? r.unknown('topic');
const snsSubscription: ResourceModel = {
  ref: (r) => `${subscriptionTopic(r)}:${r.unknown('subscription id')}`,
  arn: (r) => snsSubscription.ref(r),
  targets(action, r) {
    switch (action) {
      case 'sns:Subscribe':
        return [{ resource: subscriptionTopic(r), context: { 'sns:Protocol': String(r.properties.Protocol ?? ''), 'sns:Endpoint': String(r.properties.Endpoint ?? '') } }];
      case 'iam:PassRole':
        return passRole(r.properties.SubscriptionRoleArn, 'sns.amazonaws.com');
      case 'iam:GetRole':
        return getRole(r.properties.SubscriptionRoleArn);
    }
    // Subscription calls name no resource type in IAM: `*`.
    return [{ resource: '*' }];
  },
};
const snsTopicPolicy: ResourceModel = {
  ref: (r) => r.unknown('id'),
  arn: (r) => String(((r.properties.Topics as unknown[] | undefined) ?? [])[0] ?? r.unknown('topic')),
  targets: (_action, r) => ((r.properties.Topics as unknown[] | undefined) ?? []).map((topic) => ({ resource: String(topic) })),
};

const scheduleName = (r: ModelInput) => str(r.properties.Name) ?? r.generated(64);
const schedule: ResourceModel = {
  ref: scheduleName,
  arn: (r) => arn(r, 'scheduler', `schedule/${str(r.properties.GroupName) ?? 'default'}/${scheduleName(r)}`),
  attributes: { Arn: (r) => schedule.arn(r) },
  targets(action, r) {
    if (action === 'iam:PassRole') return passRole((r.properties.Target as { RoleArn?: unknown } | undefined)?.RoleArn, 'scheduler.amazonaws.com');
    return [{ resource: this.arn(r) }];
  },
};

const streamName = (r: ModelInput) => str(r.properties.Name) ?? r.generated(128);
const kinesisStream: ResourceModel = {
  ref: streamName,
  arn: (r) => arn(r, 'kinesis', `stream/${streamName(r)}`),
  attributes: { Arn: (r) => kinesisStream.arn(r) },
};

/** The types whose permissions the sufficiency check can place, and those it only needs to name. */
export const RESOURCE_MODELS: Readonly<Record<string, ResourceModel>> = {
  'AWS::Lambda::Function': lambdaFunction,
  'AWS::Lambda::Version': lambdaVersion,
  'AWS::Lambda::Alias': lambdaAlias,
  'AWS::Lambda::Permission': lambdaPermission,
  'AWS::Lambda::EventSourceMapping': eventSourceMapping,
  'AWS::IAM::Role': iamRole,
  'AWS::SQS::Queue': sqsQueue,
  'AWS::ApiGatewayV2::Api': httpApi,
  'AWS::ApiGateway::RestApi': restApi,
  'AWS::ApiGateway::Deployment': restApiDeployment,
  'AWS::ApiGateway::Stage': restApiStage,
  'AWS::S3::Bucket': s3Bucket,
  'AWS::KMS::Key': kmsKey,
  'AWS::SNS::Topic': snsTopic,
  'AWS::CodeBuild::Project': codeBuildProject,
  'AWS::ApiGateway::Account': apiGatewayAccount,
  'AWS::ApiGateway::Resource': restApiPathPart,
  'AWS::ApiGateway::Method': restApiMethod,
  'AWS::ApiGatewayV2::Deployment': httpApiDeployment,
  'AWS::ApiGatewayV2::Integration': httpApiIntegration,
  'AWS::ApiGatewayV2::Route': httpApiRoute,
  'AWS::ApiGatewayV2::Stage': httpApiStage,
  'AWS::CloudWatch::Alarm': cloudWatchAlarm,
  'AWS::DynamoDB::Table': dynamoDbTable,
  'AWS::Events::Rule': eventsRule,
  'AWS::IAM::ManagedPolicy': iamManagedPolicy,
  'AWS::Kinesis::Stream': kinesisStream,
  'AWS::Lambda::EventInvokeConfig': eventInvokeConfig,
  'AWS::Lambda::Url': functionUrl,
  'AWS::Logs::LogGroup': logGroup,
  'AWS::SNS::Subscription': snsSubscription,
  'AWS::SNS::TopicPolicy': snsTopicPolicy,
  'AWS::Scheduler::Schedule': schedule,
};
