import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { bundleFunction } from '../infra/bundling.js';
import { FUNCTION_ENTRY } from '../infra/paths.js';
import { median } from './stats.js';

export interface BundleFigures {
  name: string;
  /** All the .mjs files: the entry and every chunk. */
  bytes: number;
  /** The entry module alone: what an execution environment loads before its handler is called. */
  entryBytes: number;
  files: number;
  /** Importing the entry module in a fresh process, median of the runs. */
  coldImportMs: number;
  /**
   * From the start of the import until the chunks the function loads in the background
   * (its `loaded` export) have loaded: what the first request may still wait for. Equal to
   * `coldImportMs` for a function that loads nothing in the background.
   */
  loadedMs: number;
  /** The largest contributors (packages, our folders) to the entry and to the whole bundle, bytes. */
  breakdown: { entry: Contributor[]; total: Contributor[] };
}

export interface Contributor {
  name: string;
  bytes: number;
}

/** What the deployed function's environment holds that changes how it loads (tracing on). */
const DEPLOYED_ENVIRONMENT = {
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  POWERTOOLS_TRACE_ENABLED: 'true',
  POWERTOOLS_METRICS_NAMESPACE: 'ClaudeServerless',
  TABLE_NAME: 'bench',
  JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs-dlq',
  ANTHROPIC_API_KEY_SECRET_ARN:
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:anthropic-AbCdEf',
  JWT_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf',
  SIGNING_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:signing-AbCdEf',
  // The chat function reads its secrets ahead as it loads: offline, to a port that refuses at once.
  AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9',
};

/**
 * Bundles each function exactly as the stack does (infra/bundling.ts) and imports its
 * entry in a fresh Node process `runs` times, as a new execution environment would.
 */
export async function measureBundles(outDir: string, runs = 10): Promise<BundleFigures[]> {
  const figures: BundleFigures[] = [];
  for (const [name, entry] of Object.entries(FUNCTION_ENTRY)) {
    const dir = resolve(outDir, 'bundles', name);
    rmSync(dir, { recursive: true, force: true });
    const { metafile } = bundleFunction(entry, dir);
    const modules = outputFiles(dir);
    const imports: number[] = [];
    const loads: number[] = [];
    for (let i = 0; i < runs; i++) {
      const [importMs, loadedMs] = coldImport(join(dir, 'index.mjs'));
      imports.push(importMs);
      loads.push(loadedMs);
    }
    figures.push({
      name,
      bytes: modules.reduce((sum, file) => sum + statSync(file).size, 0),
      entryBytes: statSync(join(dir, 'index.mjs')).size,
      files: modules.length,
      coldImportMs: median(imports),
      loadedMs: median(loads),
      breakdown: breakdown(metafile),
    });
  }
  return figures;
}

function coldImport(file: string): [importMs: number, loadedMs: number] {
  // The Lambda runtime provides `awslambda` to streaming handlers; a stand-in will do.
  const script = `
    globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };
    const start = performance.now();
    const module = await import(${JSON.stringify(pathToFileURL(file).href)});
    const imported = performance.now();
    await module.loaded;
    console.log(JSON.stringify([imported - start, performance.now() - start]));`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, ...DEPLOYED_ENVIRONMENT },
    encoding: 'utf8',
  });
  return JSON.parse(output.trim().split('\n').at(-1)!);
}

function outputFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.mjs'))
    .map((file) => join(dir, file));
}

/** Bytes per package (or our top folders), in the entry's static imports and in all files. */
function breakdown(metafile: Metafile): BundleFigures['breakdown'] {
  const outputs = metafile.outputs;
  const entry = Object.keys(outputs).find((file) => file.endsWith('/index.mjs'))!;
  const loadedFirst = new Set<string>();
  for (const pending = [entry]; pending.length > 0; ) {
    const file = pending.pop()!;
    if (loadedFirst.has(file)) continue;
    loadedFirst.add(file);
    for (const { path, kind } of outputs[file]?.imports ?? []) {
      if (kind === 'import-statement' && outputs[path]) pending.push(path);
    }
  }
  const tally = (files: string[]) => {
    const bytes = new Map<string, number>();
    for (const file of files) {
      for (const [input, { bytesInOutput }] of Object.entries(outputs[file]!.inputs)) {
        const owner = contributorOf(input);
        bytes.set(owner, (bytes.get(owner) ?? 0) + bytesInOutput);
      }
    }
    return [...bytes]
      .map(([name, size]) => ({ name, bytes: size }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 8);
  };
  return {
    entry: tally([...loadedFirst]),
    total: tally(Object.keys(outputs).filter((file) => file.endsWith('.mjs'))),
  };
}

function contributorOf(input: string): string {
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (dependency) return dependency[1]!;
  return input.split('/').slice(0, 2).join('/');
}

/** The bundle section of the report: sizes, times and what the bytes are. */
export function bundleSection(figures: readonly BundleFigures[]): string[] {
  const kib = (bytes: number) => (bytes / 1024).toFixed(0);
  const top = (contributors: Contributor[]) =>
    contributors.map((c) => `${c.name} ${kib(c.bytes)}`).join(', ');
  return [
    'Function bundles, built as the stack builds them (infra/bundling.ts: ESM, split, minified, AWS SDK included); each entry imported in a fresh Node process with the deployed environment (tracing on, source maps off: the `sourceMaps` default). Sizes in KiB; times in ms, median of 10.',
    '',
    '| function | entry KiB | total KiB | files | cold import of the entry | until background loads are done |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...figures.map(
      (b) =>
        `| ${b.name} | ${kib(b.entryBytes)} | ${kib(b.bytes)} | ${b.files} | ${b.coldImportMs.toFixed(1)} | ${b.loadedMs.toFixed(1)} |`,
    ),
    '',
    ...figures.flatMap((b) => [
      `- ${b.name}: entry ${top(b.breakdown.entry)}; all ${top(b.breakdown.total)}`,
    ]),
  ];
}
