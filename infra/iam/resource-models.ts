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

/** A function's ARN from a name, a partial or a full ARN (qualified ARNs stay qualified). */
export function lambdaArn(r: ModelInput, nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? nameOrArn : arn(r, 'lambda', `function:${nameOrArn}`);
}
const functionName = (r: ModelInput) => str(r.properties.FunctionName) ?? r.generated(64);
const qualified = (r: ModelInput, target: string) => `${lambdaArn(r, target).split(':').slice(0, 7).join(':')}:${r.unknown('qualifier')}`;

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
    if (action === 'lambda:AddPermission') return [{ resource: this.arn(r), context: { 'lambda:Principal': String(r.properties.Principal ?? '') } }];
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
};
const codeBuildProject: ResourceModel = {
  ref: (r) => str(r.properties.Name) ?? r.generated(150),
  arn: (r) => arn(r, 'codebuild', `project/${codeBuildProject.ref(r)}`),
  attributes: { Arn: (r) => codeBuildProject.arn(r) },
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
};
