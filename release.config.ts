// The release configuration of this repository's sample application. Every field is documented, with its default, in
// infra/config.ts; the README's "Configuring releases" section explains them.
import { defineReleaseConfig } from './infra/config';

export default defineReleaseConfig({
  // Prefixes every name the release pipeline creates (lrp-tooling, lrp-ledger, lrp/<fn>/live/… alarms, …): a second
  // installation in the same account and region (another team, a trial) takes another name.
  installation: 'lrp',
  repository: {
    // Replace with your connection (console: Developer Tools → Connections). Context `connectionArn` overrides it.
    connectionArn: 'arn:aws:codestar-connections:us-east-1:123456789012:connection/00000000-0000-0000-0000-000000000000',
    owner: 'example-org',
    name: 'lambda-release-pipeline',
    branch: 'release',
  },
  stages: [
    { name: 'staging', integrationTests: true },
    {
      name: 'prod',
      approval: true,
      deploymentWindow: {
        policy: { windows: [{ days: ['Mon', 'Tue', 'Wed', 'Thu'], start: '09:00', end: '16:00', timeZone: 'Europe/Berlin' }] },
        policyParameter: '/${Installation}/deploy-window',
        overrideParameter: '/${Installation}/deploy-window/override',
      },
      integrationTests: true,
      shiftTraffic: true,
    },
  ],
  functions: [
    {
      name: 'orders-api',
      strategy: 'Canary10Percent5Minutes',
      deployPermissions: [
        {
          actions: ['apigateway:GET', 'apigateway:POST', 'apigateway:PUT', 'apigateway:PATCH', 'apigateway:DELETE'],
          resources: ['arn:aws:apigateway:${Region}::/apis', 'arn:aws:apigateway:${Region}::/apis/*', 'arn:aws:apigateway:${Region}::/tags/*'],
          reason: 'The template creates the HTTP API that invokes the live alias.',
          resourceTypes: ['AWS::ApiGatewayV2::Api'],
        },
      ],
    },
    {
      name: 'invoice-worker',
      strategy: 'Linear10PercentEvery1Minute',
      bakeMinutes: 15,
      deployPermissions: [
        {
          actions: ['sqs:CreateQueue', 'sqs:DeleteQueue', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:SetQueueAttributes', 'sqs:TagQueue', 'sqs:UntagQueue', 'sqs:ListQueueTags'],
          resources: ['arn:aws:sqs:${Region}:${Account}:invoices-${Stage}', 'arn:aws:sqs:${Region}:${Account}:invoices-${Stage}-dlq'],
          reason: 'The template creates the invoice queue and its dead-letter queue.',
          resourceTypes: ['AWS::SQS::Queue'],
        },
        {
          actions: ['lambda:CreateEventSourceMapping', 'lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping', 'lambda:DeleteEventSourceMapping'],
          resources: ['*'],
          conditions: { ArnLike: { 'lambda:FunctionArn': ['arn:aws:lambda:${Region}:${Account}:function:invoice-worker-${Stage}', 'arn:aws:lambda:${Region}:${Account}:function:invoice-worker-${Stage}:*'] } },
          reason: 'Event source mappings have no ARN until created, so the resource is `*`, narrowed by a condition on the function.',
          resourceTypes: ['AWS::Lambda::EventSourceMapping'],
        },
        {
          actions: ['lambda:TagResource', 'lambda:UntagResource', 'lambda:ListTags'],
          resources: ['arn:aws:lambda:${Region}:${Account}:event-source-mapping:*'],
          reason: 'The stack tags (lrp:commit) are applied to the event source mapping on every deploy; tagging supports no condition on the function.',
          resourceTypes: ['AWS::Lambda::EventSourceMapping'],
        },
      ],
    },
    {
      // Plain SAM: Globals, AutoPublishAlias: live and Api events; the packager points the REST API at live.
      name: 'catalog-api',
      strategy: 'AllAtOnce',
      deployPermissions: [
        {
          actions: ['apigateway:GET', 'apigateway:POST', 'apigateway:PUT', 'apigateway:PATCH', 'apigateway:DELETE'],
          resources: ['arn:aws:apigateway:${Region}::/restapis', 'arn:aws:apigateway:${Region}::/restapis/*', 'arn:aws:apigateway:${Region}::/tags/*'],
          reason: 'The template creates the REST API that invokes the live alias: the API, its deployments and its stage.',
          resourceTypes: ['AWS::ApiGateway::RestApi', 'AWS::ApiGateway::Deployment', 'AWS::ApiGateway::Stage'],
        },
      ],
    },
  ],
});
