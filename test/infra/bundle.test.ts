import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/paths.js';
import { environmentOf, logicalId, type Synthesized, synthesize } from './synth.js';

// Inside the project, so the bundles resolve the AWS SDK from node_modules as they
// would from the Lambda runtime; cdk.out/ is ignored by git.
mkdirSync(join(PROJECT_ROOT, 'cdk.out'), { recursive: true });
const outdir = mkdtempSync(join(PROJECT_ROOT, 'cdk.out', 'infra-test-'));
let s: Synthesized;
type FunctionName = 'chat' | 'worker' | 'maintenance';
let assetDirs: Record<FunctionName, string>;

beforeAll(() => {
  s = synthesize({ bundle: true, outdir });
  const assets = JSON.parse(
    readFileSync(join(outdir, `${s.stack.stackName}.assets.json`), 'utf8'),
  ) as { files: Record<string, { source: { path: string } }> };
  const assetDirOf = (functionId: string) => {
    const code = s.json.Resources[functionId]?.Properties?.Code as { S3Key: string };
    const asset = assets.files[code.S3Key.replace(/\.zip$/, '')];
    if (!asset) throw new Error(`no asset for ${functionId}`);
    return join(outdir, asset.source.path);
  };
  assetDirs = {
    chat: assetDirOf(logicalId(s.stack, s.stack.chat.handler.function.functionName)),
    worker: assetDirOf(logicalId(s.stack, s.stack.jobs.worker.function.functionName)),
    maintenance: assetDirOf(logicalId(s.stack, s.stack.maintenance.handler.function.functionName)),
  };
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** The function's environment as deployed: references replaced by plausible values. */
function deployedEnvironment(fn: FunctionName): Record<string, string> {
  const construct = {
    chat: s.stack.chat.handler,
    worker: s.stack.jobs.worker,
    maintenance: s.stack.maintenance.handler,
  }[fn];
  const functionId = logicalId(s.stack, construct.function.functionName);
  const variables = environmentOf(s.json, functionId);
  const standIn: Record<string, string> = {
    TABLE_NAME: 'claude-serverless-table',
    JOBS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs',
    DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs-dlq',
    ANTHROPIC_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:k-AbCdEf',
    JWT_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:j-AbCdEf',
    SIGNING_KEY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf',
  };
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [
      name,
      typeof value === 'string' ? value : (standIn[name] ?? 'unknown'),
    ]),
  );
}

describe.each(['chat', 'worker', 'maintenance'] as const)('the %s bundle', (fn) => {
  const bundle = () => join(assetDirs[fn], 'index.mjs');

  it('is an ES module exporting handler, with a source map beside it', () => {
    const code = readFileSync(bundle(), 'utf8');
    expect(code).toMatch(/export\s*\{[^}]*\bas handler\s*[,}]|export\s*\{\s*handler\s*[,}]/);
    expect(code.trimEnd()).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map$/);
    expect(existsSync(`${bundle()}.map`)).toBe(true);
  });

  it('defines require for the CommonJS code inside it', () => {
    expect(readFileSync(bundle(), 'utf8')).toMatch(
      /^import\s*\{\s*createRequire as \w+\s*\}\s*from\s*'node:module';\s*const require = \w+\(import\.meta\.url\);/,
    );
  });

  it('leaves the AWS SDK to the Lambda runtime', () => {
    expect(readFileSync(bundle(), 'utf8')).toMatch(/from\s*"@aws-sdk\/client-/);
    const { sources } = JSON.parse(readFileSync(`${bundle()}.map`, 'utf8')) as {
      sources: string[];
    };
    expect(
      sources.some((source) => source.includes('functions/')),
      'our code',
    ).toBe(true);
    expect(sources.filter((source) => /node_modules\/@(aws-sdk|smithy)\//.test(source))).toEqual(
      [],
    );
    expect(statSync(bundle()).size).toBeLessThan(3 * 1024 * 1024);
  });

  it('loads on Node with the stack environment', () => {
    // The Lambda runtime provides `awslambda` to streaming handlers; a stand-in will do
    // to import the module.
    const script = `
      globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };
      const mod = await import(${JSON.stringify(pathToFileURL(bundle()).href)});
      if (typeof mod.handler !== 'function') throw new Error('no handler export');
      console.log('handler loaded');
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        ...deployedEnvironment(fn),
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(output).toContain('handler loaded');
  });
});
