import { spawnSync } from 'node:child_process';
import { SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCodePipelineRecorder } from '../../harness/codepipeline-recorder';
import { requireMoto, type MotoServer } from '../../harness/moto';
import { importRollbackFunction, startEngineOnMoto, type EngineOnMoto, type RollbackActions } from '../support/engine-on-moto';
import { createLedgerTable, createSampleFunction, motoClients } from '../../harness/moto-fixtures';
import type { NoticeBody } from '../../deploy-functions/core/notices';
import { alarmEvent } from '../support/fake-aws';

const FN = 'orders-api-nt';
const GENERATED = `lrp/${FN}/live/errors`;
const USER = `${FN}-latency`;
const TABLE = 'lrp-ledger';
const TOPIC = 'lrp-notices';
const TOPIC_ARN = `arn:aws:sns:us-east-1:123456789012:${TOPIC}`;

type Handler = (event: unknown, context: unknown) => Promise<{ outcome: string; message: string }>;

describe.runIf(requireMoto('notices suite'))('rollback notices, read back from the topic through an SQS subscription on moto', () => {
  let engine: EngineOnMoto | undefined;
  let moto: MotoServer;
  let recorder: Awaited<ReturnType<typeof startCodePipelineRecorder>>;
  let shiftTraffic: Handler;
  let rollback: (event: unknown) => Promise<RollbackActions>;
  let queueUrl: string;

  /** The AWS CLI against moto (the SQS client is not a dependency of the project). */
  const aws = (...args: string[]) => {
    const run = spawnSync('aws', [...args, '--endpoint-url', moto.endpoint, '--output', 'json'], { env: { ...process.env, ...moto.env }, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`aws ${args.join(' ')}: ${run.stderr}`);
    return run.stdout ? (JSON.parse(run.stdout) as Record<string, unknown>) : {};
  };
  /** Every notice the topic delivered to the queue so far: subject and parsed body. */
  const notices = () => {
    const out = aws('sqs', 'receive-message', '--queue-url', queueUrl, '--max-number-of-messages', '10', '--wait-time-seconds', '1');
    return ((out.Messages ?? []) as { Body: string }[]).map((m) => {
      const envelope = JSON.parse(m.Body) as { Subject: string; Message: string };
      return { subject: envelope.Subject, body: JSON.parse(envelope.Message) as NoticeBody };
    });
  };
  const runJob = (jobId: string, params: unknown) =>
    recorder.runJob(shiftTraffic as never, jobId, { actionConfiguration: { configuration: { UserParameters: JSON.stringify(params) } }, pipelineContext: { pipelineName: 'lrp-orders-api', stage: { name: 'prod' } } });
  const params = (overrides: Record<string, unknown> = {}) => ({ functionName: FN, targetAlias: 'candidate', strategy: 'AllAtOnce', alarms: [USER], bakeMinutes: 10, pipelineExecutionId: 'exec-42', ...overrides });

  beforeAll(async () => {
    engine = await startEngineOnMoto({ LEDGER_TABLE: TABLE, NOTICES_TOPIC_ARN: TOPIC_ARN });
    ({ moto, recorder } = engine);
    shiftTraffic = (await import('../../deploy-functions/shift-traffic/handler')).handler as unknown as Handler;
    rollback = await importRollbackFunction();
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
  });

  beforeEach(async () => {
    await moto.reset();
    recorder.reset();
    await createLedgerTable(moto, TABLE);
    await createSampleFunction(moto, FN, [GENERATED, USER]);
    const sns = new SNSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await sns.send(new CreateTopicCommand({ Name: TOPIC }));
    queueUrl = aws('sqs', 'create-queue', '--queue-name', 'notices').QueueUrl as string;
    await sns.send(new SubscribeCommand({ TopicArn: TOPIC_ARN, Protocol: 'sqs', Endpoint: 'arn:aws:sqs:us-east-1:123456789012:notices' }));
  }, 60_000);

  it('a rollback by shift-traffic publishes the documented notice', async () => {
    // Arrange: the alarm goes to ALARM once the canary took its first step
    const { lambda, cloudwatch } = motoClients(moto);
    const job = runJob('job-breach', params({ strategy: { steps: [{ percent: 10, minutes: 0.5 }] } }));
    for (let i = 0; i < 100; i += 1) {
      const alias = await lambda.send(new GetAliasCommand({ FunctionName: FN, Name: 'live' }));
      if (alias.RoutingConfig?.AdditionalVersionWeights?.['2']) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: USER, StateValue: 'ALARM', StateReason: 'p99 above 800 ms' }));
    // Act
    const final = await job;
    // Assert
    expect(final.operation).toBe('PutJobFailureResult');
    const received = notices();
    expect(received).toHaveLength(1);
    expect(received[0]!.subject).toBe(`[lrp] ${FN}:live rolled back 2 -> 1 (ALARM_BREACHED)`);
    expect(received[0]!.body).toMatchObject({
      version: 1,
      kind: 'ROLLED_BACK',
      functionName: FN,
      stage: 'prod',
      alias: 'live',
      fromVersion: '2',
      toVersion: '1',
      commit: 'abcdef1',
      deploymentId: expect.any(String),
      cause: { code: 'ALARM_BREACHED', by: 'shift-traffic', alarmName: USER, reason: expect.stringContaining('p99 above 800 ms') },
      pipeline: { name: 'lrp-orders-api', executionId: 'exec-42' },
      links: {
        pipelineExecution: 'https://us-east-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/lrp-orders-api/executions/exec-42/timeline',
        alarm: `https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/${USER}`,
      },
    });
  }, 60_000);

  it('a rollback by the rollback function in the bake window publishes the documented notice, once', async () => {
    // Arrange
    await runJob('job-bake', params());
    await motoClients(moto).cloudwatch.send(new SetAlarmStateCommand({ AlarmName: GENERATED, StateValue: 'ALARM', StateReason: 'errors' }));
    // Act: the event and a duplicate of it
    await rollback(alarmEvent(GENERATED));
    await rollback(alarmEvent(GENERATED));
    // Assert
    const received = notices();
    expect(received.map((n) => [n.body.kind, n.body.cause.by, n.body.cause.code, n.body.cause.alarmName, n.body.fromVersion, n.body.toVersion, n.body.stage])).toEqual([
      ['ROLLED_BACK', 'rollback-function', 'ALARM_BREACHED', GENERATED, '2', '1', 'prod'],
    ]);
    expect(received[0]!.body.links.alarm).toBe(`https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/${encodeURIComponent(GENERATED)}`);
  }, 60_000);

  it('an event the rollback function fails on, and will dead-letter, publishes the documented notice', async () => {
    // Arrange: the ledger is gone, so no event can be judged
    await motoClients(moto).cloudwatch.send(new SetAlarmStateCommand({ AlarmName: GENERATED, StateValue: 'ALARM', StateReason: 'errors' }));
    await motoClients(moto).dynamodb.send(new DeleteTableCommand({ TableName: TABLE }));
    // Act
    await expect(rollback(alarmEvent(GENERATED))).rejects.toThrow();
    // Assert
    const received = notices();
    expect(received).toHaveLength(1);
    expect(received[0]!.subject).toBe(`[lrp] rollback function failed on ${GENERATED}: retried, then dead-lettered`);
    expect(received[0]!.body).toMatchObject({ version: 1, kind: 'ROLLBACK_FAILED', cause: { code: 'ROLLBACK_FAILED', by: 'rollback-function', alarmName: GENERATED, reason: expect.stringContaining('dead-letter queue') } });
  }, 60_000);
});
