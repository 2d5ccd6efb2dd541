import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, posix } from 'node:path';
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
    EVENTS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:ClaudeServerless-JobEventsTopic-AbCdEf',
  };
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [
      name,
      typeof value === 'string' ? value : (standIn[name] ?? 'unknown'),
    ]),
  );
}

/** The bundle's .mjs files, relative to its directory. */
function modulesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.mjs'));
}

/** The files an import of `index.mjs` loads before its code runs: its static imports, transitively. */
function loadedAtImport(dir: string): string[] {
  const loaded = new Set<string>();
  for (const pending = ['index.mjs']; pending.length > 0; ) {
    const file = pending.pop()!;
    if (loaded.has(file)) continue;
    loaded.add(file);
    const code = readFileSync(join(dir, file), 'utf8');
    // `import{a as b}from"./chunks/x.mjs"` and `import"./chunks/x.mjs"`, never `import("…")`.
    for (const [, specifier] of code.matchAll(/(?:\bfrom|\bimport)\s*"(\.\.?\/[^"]+)"/g)) {
      pending.push(posix.join(posix.dirname(file), specifier!));
    }
  }
  return [...loaded];
}

/** The source files (from the source maps) bundled into `files`. */
function sourcesOf(dir: string, files: readonly string[]): string[] {
  return files.flatMap(
    (file) =>
      (JSON.parse(readFileSync(join(dir, `${file}.map`), 'utf8')) as { sources: string[] }).sources,
  );
}

describe.each(['chat', 'worker', 'maintenance'] as const)('the %s bundle', (fn) => {
  const bundle = () => join(assetDirs[fn], 'index.mjs');

  it('is an ES module exporting handler, each of its files with a source map beside it', () => {
    const code = readFileSync(bundle(), 'utf8');
    expect(code).toMatch(/export\s*\{[^}]*\bas handler\s*[,}]|export\s*\{\s*handler\s*[,}]/);
    expect(code.trimEnd()).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map$/);
    for (const file of modulesOf(assetDirs[fn])) {
      expect(existsSync(join(assetDirs[fn], `${file}.map`)), file).toBe(true);
    }
  });

  it('defines require for the CommonJS code in each of its files', () => {
    for (const file of modulesOf(assetDirs[fn])) {
      expect(readFileSync(join(assetDirs[fn], file), 'utf8'), file).toMatch(
        /^import\s*\{\s*createRequire as \w+\s*\}\s*from\s*'node:module';\s*const require = \w+\(import\.meta\.url\);/,
      );
    }
  });

  it("carries the AWS SDK it was tested with instead of the Lambda runtime's", () => {
    const files = modulesOf(assetDirs[fn]);
    for (const file of files) {
      expect(readFileSync(join(assetDirs[fn], file), 'utf8'), file).not.toMatch(
        // Minified: `from"…"`, `import"…"`, `import("…")`; messages in strings have spaces.
        /(?:\bfrom|\bimport\(?)"@(?:aws-sdk|smithy)\//,
      );
    }
    const sources = sourcesOf(assetDirs[fn], files);
    expect(sources.some((source) => source.includes('functions/'))).toBe(true);
    expect(sources.some((source) => /node_modules\/@aws-sdk\/client-dynamodb\//.test(source))).toBe(
      true,
    );
    const total = files.reduce((sum, file) => sum + statSync(join(assetDirs[fn], file)).size, 0);
    expect(total).toBeLessThan(3 * 1024 * 1024);
  });

  it("keeps the X-Ray SDK's trace context on AsyncLocalStorage, without cls-hooked's async hooks", () => {
    const sources = sourcesOf(assetDirs[fn], modulesOf(assetDirs[fn]));
    expect(sources.some((source) => source.includes('node_modules/aws-xray-sdk-core/'))).toBe(true);
    expect(sources.filter((source) => source.includes('node_modules/cls-hooked/'))).toEqual([]);
    expect(
      sources.some((source) => source.endsWith('shared/adapters/tracing/async-local-namespace.ts')),
    ).toBe(true);
  });

  it('loads on Node with the stack environment', () => {
    // The Lambda runtime provides `awslambda` to streaming handlers; a stand-in will do
    // to import the module. `loaded`: the chunks the chat function loads in the background.
    const script = `
      globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };
      const mod = await import(${JSON.stringify(pathToFileURL(bundle()).href)});
      if (typeof mod.handler !== 'function') throw new Error('no handler export');
      await mod.loaded;
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

describe('the chat bundle, loaded lazily', () => {
  const KiB = 1024;
  const dir = () => assetDirs.chat;

  it('has an entry module of at most 350 KiB, its static imports included', () => {
    expect(statSync(join(dir(), 'index.mjs')).size).toBeLessThanOrEqual(350 * KiB);
    const atImport = loadedAtImport(dir());
    const bytes = atImport.reduce((sum, file) => sum + statSync(join(dir(), file)).size, 0);
    expect(bytes).toBeLessThanOrEqual(350 * KiB);
  });

  /** What importing the entry did, and what it had done once `loaded` settled. */
  function importEntry(): {
    atImport: { segmenters: number; builtins: string[] };
    onceLoaded: { segmenters: number };
  } {
    const script = `
      globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };
      let segmenters = 0;
      const Segmenter = Intl.Segmenter;
      Intl.Segmenter = class extends Segmenter {
        constructor(...args) { super(...args); segmenters++; }
      };
      const before = new Set(process.moduleLoadList);
      const mod = await import(${JSON.stringify(pathToFileURL(join(dir(), 'index.mjs')).href)});
      const builtins = process.moduleLoadList
        .filter((name) => !before.has(name) && /^NativeModule (?!internal\\/)/.test(name))
        .map((name) => name.slice('NativeModule '.length));
      const atImport = { segmenters, builtins };
      await mod.loaded;
      console.log(JSON.stringify({ atImport, onceLoaded: { segmenters } }));
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        ...deployedEnvironment('chat'),
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return JSON.parse(output.trim().split('\n').at(-1)!);
  }

  it('builds its grapheme segmenter (ICU, ~20 ms) in the background, not while its entry loads', () => {
    const { atImport, onceLoaded } = importEntry();
    expect(atImport.segmenters).toBe(0);
    // Before any route runs: a turn may cut a long title with it before its first token.
    expect(onceLoaded.segmenters).toBe(1);
  });

  it('loads node:zlib only for a playground page asked for without gzip, not while its entry loads', () => {
    expect(importEntry().atImport.builtins).not.toContain('zlib');
  });

  it('loads the SDKs, the tracer, token verification and the adapters only after its entry', () => {
    const atImport = sourcesOf(dir(), loadedAtImport(dir()));
    const later = sourcesOf(dir(), modulesOf(dir()));
    const lazy = [
      /node_modules\/@anthropic-ai\/sdk\//,
      /node_modules\/@aws-sdk\//,
      /node_modules\/@smithy\//,
      /node_modules\/aws-xray-sdk-core\//,
      /node_modules\/@aws-lambda-powertools\/tracer\//,
      /node_modules\/jose\//,
      /shared\/adapters\/dynamodb\/response-cache\.ts$/,
      /shared\/adapters\/anthropic\//,
      /functions\/chat\/adapters\.ts$/,
      /functions\/chat\/model-adapters\.ts$/,
    ];
    for (const pattern of lazy) {
      expect(
        atImport.filter((source) => pattern.test(source)),
        String(pattern),
      ).toEqual([]);
      expect(
        later.some((source) => pattern.test(source)),
        String(pattern),
      ).toBe(true);
    }
  });
});
