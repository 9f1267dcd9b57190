import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { handlerPermissions, type HandlerPermissionsData } from '../../infra/iam/handler-permissions';

const root = join(import.meta.dirname, '..', '..');
const queueSchema = {
  typeName: 'AWS::SQS::Queue',
  tagging: { taggable: true, permissions: ['sqs:TagQueue', 'sqs:UntagQueue', 'sqs:ListQueueTags'] },
  handlers: {
    create: { permissions: ['sqs:CreateQueue', 'sqs:GetQueueUrl'] },
    read: { permissions: ['sqs:GetQueueAttributes'] },
    update: { permissions: ['sqs:SetQueueAttributes'] },
    delete: { permissions: ['sqs:DeleteQueue'] },
    list: { permissions: ['sqs:ListQueues'] },
  },
};
const topicSchema = { typeName: 'AWS::SNS::Topic', handlers: { create: { permissions: ['sns:CreateTopic'] } } };

function refresh(args: string[]) {
  return spawnSync('npx', ['tsx', 'scripts/refresh-handler-permissions.ts', ...args], { cwd: root, encoding: 'utf8' });
}

describe('npm run refresh:handler-permissions', () => {
  it('keeps the recorded types and adds new ones from a folder of registry schemas, saying where and when', () => {
    // Arrange
    const dir = mkdtempSync(join(tmpdir(), 'lrp-schemas-'));
    writeFileSync(join(dir, 'aws-sqs-queue.json'), JSON.stringify(queueSchema));
    writeFileSync(join(dir, 'aws-sns-topic.json'), JSON.stringify(topicSchema));
    const out = join(dir, 'out.json');
    writeFileSync(out, JSON.stringify({ source: 'x', retrieved: 'x', refresh: 'x', types: { 'AWS::SQS::Queue': {} } }));
    // Act
    const run = refresh(['--schemas', dir, '--add', 'AWS::SNS::Topic', '--out', out, '--date', '2027-01-02']);
    // Assert
    expect(run.status, run.stderr).toBe(0);
    const data = JSON.parse(readFileSync(out, 'utf8')) as HandlerPermissionsData;
    expect(data.retrieved).toBe('2027-01-02');
    expect(data.source).toContain(dir);
    expect(data.types['AWS::SQS::Queue']).toEqual({
      create: ['sqs:CreateQueue', 'sqs:GetQueueUrl'],
      read: ['sqs:GetQueueAttributes'],
      update: ['sqs:SetQueueAttributes'],
      delete: ['sqs:DeleteQueue'],
      tagging: { taggable: true, permissions: ['sqs:TagQueue', 'sqs:UntagQueue', 'sqs:ListQueueTags'] },
    });
    expect(data.types['AWS::SNS::Topic']).toEqual({ create: ['sns:CreateTopic'], tagging: null });
  });

  it('reads CloudFormation\'s CloudformationSchema.zip as published', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lrp-schemas-'));
    const zip = join(dir, 'CloudformationSchema.zip');
    writeFileSync(zip, zipSync({ 'aws-sqs-queue.json': strToU8(JSON.stringify(queueSchema)) }));
    const out = join(dir, 'out.json');
    const run = refresh(['--schemas', zip, '--add', 'AWS::SQS::Queue', '--out', out]);
    expect(run.status, run.stderr).toBe(0);
    expect((JSON.parse(readFileSync(out, 'utf8')) as HandlerPermissionsData).types['AWS::SQS::Queue']!.create).toEqual(['sqs:CreateQueue', 'sqs:GetQueueUrl']);
  });

  it('fails naming a type the schemas do not have, and leaves the file as it was', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lrp-schemas-'));
    writeFileSync(join(dir, 'aws-sqs-queue.json'), JSON.stringify(queueSchema));
    const out = join(dir, 'out.json');
    writeFileSync(out, '{"types":{}}');
    const run = refresh(['--schemas', dir, '--add', 'AWS::Nope::Thing', '--out', out]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('no schema for AWS::Nope::Thing');
    expect(readFileSync(out, 'utf8')).toBe('{"types":{}}');
  });

  it('the recorded data says where it came from and when, and covers every handler of its types', () => {
    const data = handlerPermissions();
    expect(data.source).toMatch(/CloudFormation registry resource schemas/);
    expect(data.retrieved).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const [type, permissions] of Object.entries(data.types)) expect(permissions.create, type).toBeDefined();
  });
});
