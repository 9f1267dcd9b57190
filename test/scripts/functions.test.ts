import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { bundleFunctions } from '../../scripts/lib/bundle';
import { FunctionEntryError, FunctionKind, discoverFunctions, functionEntry } from '../../scripts/lib/functions';
import { lambdaContext } from '../../harness/lambda-context';
import { tempProject } from '../support/temp-project';

const root = join(import.meta.dirname, '..', '..');
/** `sam init` → nodejs22.x, hello-ts-pt, Powertools logging, metrics and tracing, project `hello`: kept as generated. */
const samInitProject = join(root, 'test', 'fixtures', 'sam-init-project');

/** A template (JSON is YAML) whose released function has these properties and this Metadata. */
const template = (properties: Record<string, unknown>, metadata?: Record<string, unknown>, more: Record<string, unknown> = {}) =>
  JSON.stringify({
    Transform: 'AWS::Serverless-2016-10-31',
    Resources: { Fn: { Type: 'AWS::Serverless::Function', Properties: { Runtime: 'nodejs22.x', ...properties }, ...(metadata ? { Metadata: metadata } : {}) }, ...more },
  });
const handlerModule = "export const lambdaHandler = async () => ({ statusCode: 200, body: 'ok' });\n";

describe('discoverFunctions', () => {
  it('finds a sam-init folder by its template.yaml and enters at the template entry point', () => {
    expect(discoverFunctions(samInitProject)).toEqual([
      { name: 'hello', kind: FunctionKind.APPLICATION, dir: 'functions/hello', entry: 'functions/hello/hello-world/app.ts', exportName: 'lambdaHandler' },
    ]);
  });

  it('keeps the samples that point CodeUri at the built zip on their handler.ts', () => {
    const applications = discoverFunctions(root).filter((fn) => fn.kind === FunctionKind.APPLICATION);
    expect(applications.map(({ name, entry, exportName, dir }) => ({ name, entry, exportName, dir }))).toEqual(
      expect.arrayContaining([
        { name: 'invoice-worker', entry: 'functions/invoice-worker/handler.ts', exportName: 'handler', dir: 'functions/invoice-worker' },
        { name: 'orders-api', entry: 'functions/orders-api/handler.ts', exportName: 'handler', dir: 'functions/orders-api' },
      ]),
    );
  });
});

describe('functionEntry', () => {
  const project = tempProject('lrp-entry');
  afterAll(() => project.remove());
  let n = 0;
  /** A function folder with these files; returns its name. */
  const fn = (files: Record<string, string>) => {
    const name = `fn${(n += 1)}`;
    for (const [path, text] of Object.entries(files)) project.write(join('functions', name, path), text);
    return name;
  };

  it('prefers Metadata.BuildProperties.EntryPoints[0], within CodeUri', () => {
    const name = fn({
      'template.yaml': template({ CodeUri: 'src/', Handler: 'app.lambdaHandler' }, { BuildMethod: 'esbuild', BuildProperties: { EntryPoints: ['main.ts'] } }),
      'src/app.ts': handlerModule,
      'src/main.ts': handlerModule,
    });
    expect(functionEntry(project.root, name)).toEqual({ entry: `functions/${name}/src/main.ts`, exportName: 'lambdaHandler', dir: `functions/${name}` });
  });

  it.each([
    ['app.ts', 'app.lambdaHandler', 'src/'],
    ['app.mts', 'app.lambdaHandler', 'src'],
    ['lib/app.js', 'lib/app.lambdaHandler', 'src'],
    ['app.mjs', 'app.run', './src/'],
  ])('else takes the module of Handler within CodeUri (%s for %s)', (file, handler, codeUri) => {
    const name = fn({ 'template.yaml': template({ CodeUri: codeUri, Handler: handler }), [`src/${file}`]: handlerModule });
    expect(functionEntry(project.root, name)).toMatchObject({ entry: `functions/${name}/src/${file}`, exportName: handler.split('.').pop() });
  });

  it('reads Handler and CodeUri from Globals.Function, and CodeUri defaults to the template folder', () => {
    const globals = fn({ 'template.yaml': JSON.stringify({ Globals: { Function: { CodeUri: 'code', Handler: 'index.go' } }, Resources: { Fn: { Type: 'AWS::Serverless::Function', Properties: {} } } }), 'code/index.ts': handlerModule });
    expect(functionEntry(project.root, globals)).toMatchObject({ entry: `functions/${globals}/code/index.ts`, exportName: 'go' });
    const here = fn({ 'template.yaml': template({ Handler: 'app.lambdaHandler' }), 'app.ts': handlerModule });
    expect(functionEntry(project.root, here).entry).toBe(`functions/${here}/app.ts`);
  });

  it('enters at handler.ts when CodeUri is the built zip, with the export Handler names', () => {
    const name = fn({ 'template.yaml': template({ CodeUri: '../../dist/x.zip', Handler: 'index.handler' }), 'handler.ts': handlerModule });
    expect(functionEntry(project.root, name)).toEqual({ entry: `functions/${name}/handler.ts`, exportName: 'handler', dir: `functions/${name}` });
  });

  it('releases the function with AutoPublishAlias when the template declares several', () => {
    const name = fn({
      'template.yaml': template({ CodeUri: 'a', Handler: 'a.handler' }, undefined, {
        Released: { Type: 'AWS::Serverless::Function', Properties: { CodeUri: 'b', Handler: 'b.main', AutoPublishAlias: 'live' } },
      }),
      'a/a.ts': handlerModule,
      'b/b.ts': handlerModule,
    });
    expect(functionEntry(project.root, name)).toMatchObject({ entry: `functions/${name}/b/b.ts`, exportName: 'main' });
  });

  it.each([
    ['no function', { 'template.yaml': JSON.stringify({ Resources: { Q: { Type: 'AWS::SQS::Queue' } } }) }, /declares no AWS::Serverless::Function; declare the function/],
    [
      'two functions, none published',
      { 'template.yaml': template({ CodeUri: '.', Handler: 'a.handler' }, undefined, { Other: { Type: 'AWS::Serverless::Function', Properties: {} } }) },
      /declares 2 AWS::Serverless::Function resources \(Fn, Other\) and none has AutoPublishAlias; give the one to release `AutoPublishAlias: candidate`/,
    ],
    ['a missing CodeUri folder', { 'template.yaml': template({ CodeUri: 'hello-world/', Handler: 'app.lambdaHandler' }) }, /Fn's CodeUri hello-world\/ \(functions\/fn\d+\/hello-world\) is not a folder of this project; point CodeUri at the folder/],
    ['a CodeUri outside the project', { 'template.yaml': template({ CodeUri: '../../..', Handler: 'app.handler' }) }, /is not a folder of this project/],
    [
      'a missing entry point',
      { 'template.yaml': template({ CodeUri: 'src', Handler: 'app.lambdaHandler' }, { BuildProperties: { EntryPoints: ['main.ts'] } }), 'src/app.ts': handlerModule },
      /Metadata\.BuildProperties\.EntryPoints\[0\] main\.ts \(functions\/fn\d+\/src\/main\.ts\) does not exist; fix the path; it is relative to CodeUri \(src\)/,
    ],
    [
      'a missing Handler module',
      { 'template.yaml': template({ CodeUri: 'src', Handler: 'app.lambdaHandler' }), 'src/other.ts': handlerModule },
      /Handler app\.lambdaHandler names the module functions\/fn\d+\/src\/app, but none of .*src\/app\.ts, .*src\/app\.mts, .*src\/app\.js, .*src\/app\.mjs exists; fix Handler or CodeUri/,
    ],
    ['a zip CodeUri without handler.ts', { 'template.yaml': template({ CodeUri: '../../dist/x.zip', Handler: 'index.handler' }) }, /is not a source folder .* functions\/fn\d+\/handler\.ts, which does not exist; add it, or point CodeUri at the folder/],
    ['a Handler without an export', { 'template.yaml': template({ CodeUri: '.', Handler: 'app' }) }, /Fn's Handler "app" is not <module>\.<export>/],
    ['invalid YAML', { 'template.yaml': 'Resources: [' }, /cannot be read \(.+\); fix the YAML/],
  ])('fails on %s, naming the template and the fix', (_case, files, message) => {
    const name = fn(files);
    const error = (() => {
      try {
        return functionEntry(project.root, name);
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(FunctionEntryError);
    expect((error as Error).message.startsWith(`functions/${name}/template.yaml: `), (error as Error).message).toBe(true);
    expect((error as Error).message).toMatch(message);
  });
});

describe('bundling a sam-init folder as it is', () => {
  const outDir = tempProject('lrp-sam-build').root;
  let bundle: { lambdaHandler: (event: unknown, context: unknown) => Promise<APIGatewayProxyResult> };

  beforeAll(async () => {
    const [result] = await bundleFunctions(discoverFunctions(samInitProject), { root: samInitProject, outDir });
    expect(result).toMatchObject({ name: 'hello', status: 'built' });
    bundle = (await import(pathToFileURL(join(outDir, 'hello', 'index.mjs')).href)) as typeof bundle;
  }, 60_000);

  it('ships index.mjs exporting the Handler export, which answers with a Lambda context', async () => {
    const response = await bundle.lambdaHandler({ httpMethod: 'GET', path: '/hello' }, lambdaContext({ functionName: 'hello' }));
    expect(response).toEqual({ statusCode: 200, body: JSON.stringify({ message: 'hello world' }) });
  });

  it('fails when the entry does not export what Handler names', async () => {
    const project = tempProject('lrp-no-export');
    try {
      project.write('functions/x/template.yaml', template({ CodeUri: '.', Handler: 'app.lambdaHandler' }));
      project.write('functions/x/app.ts', 'export const handler = async () => 1;\n');
      await expect(bundleFunctions(discoverFunctions(project.root), { root: project.root })).rejects.toThrow(
        'x: functions/x/app.ts does not export lambdaHandler, which Lambda would call (exports: handler); export it, or fix the Handler in functions/x/template.yaml',
      );
    } finally {
      project.remove();
    }
  });

  it('says where packages come from when an import does not resolve', async () => {
    const project = tempProject('lrp-unresolved');
    try {
      project.write('functions/x/handler.ts', "import pad from 'left-pad-that-nobody-installed';\nexport const handler = async () => pad('1', 2);\n");
      await expect(bundleFunctions(discoverFunctions(project.root), { root: project.root })).rejects.toThrow(/^x: Build failed[\s\S]*Could not resolve "left-pad-that-nobody-installed"[\s\S]*add what x imports to the root package\.json/);
    } finally {
      project.remove();
    }
  });
});
