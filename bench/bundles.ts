import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { median } from './stats.js';

/** The functions, bundled as the CDK stack bundles them (ESM, minified, AWS SDK external). */
const FUNCTIONS = {
  chat: 'functions/chat/handler.ts',
  worker: 'functions/worker/handler.ts',
} as const;

export interface BundleFigures {
  name: string;
  bytes: number;
  coldImportMs: number;
}

const SETTINGS_FOR_IMPORT = {
  TABLE_NAME: 'bench',
  JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
  ANTHROPIC_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:anthropic',
  JWT_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt',
  SIGNING_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:signing',
  AWS_REGION: 'us-east-1',
};

export async function measureBundles(outDir: string, runs = 10): Promise<BundleFigures[]> {
  const figures: BundleFigures[] = [];
  for (const [name, entry] of Object.entries(FUNCTIONS)) {
    const outfile = resolve(outDir, `${name}.mjs`);
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      external: ['@aws-sdk/*'],
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'silent',
    });
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      // A fresh process each time: the cold import a new Lambda execution environment pays.
      const script = `globalThis.awslambda={streamifyResponse:(h)=>h,HttpResponseStream:{from:(s)=>s}};const t=performance.now();await import(${JSON.stringify(`file://${outfile}`)});console.log(performance.now()-t)`;
      const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, ...SETTINGS_FOR_IMPORT },
        encoding: 'utf8',
      });
      times.push(Number(output.trim().split('\n').at(-1)));
    }
    figures.push({ name, bytes: statSync(outfile).size, coldImportMs: median(times) });
  }
  return figures;
}
