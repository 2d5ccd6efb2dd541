/**
 * npm run bench: what the stack adds to a streamed chat turn, measured through the
 * local function URL against the same request straight to the local Claude; plus
 * bundle sizes and cold import times. A benchmark, not a test: it reports, it never
 * asserts. Writes bench/results/latest.{json,md}.
 */
import '../local-stack/lambda-runtime/install-globals.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ensureDynamoDbLocal } from '../local-stack/dynamodb/install.js';
import { startDynamoDbLocal } from '../local-stack/dynamodb/server.js';
import { findFreePort } from '../local-stack/ports.js';
import { startProduct } from '../local-stack/product.js';
import { startSqsEmulator } from '../local-stack/sqs/server.js';
import { measureBundles } from './bundles.js';
import { directClient, directTurn, measure, type Summary, stackTurn } from './chat-turns.js';
import { noBudget, noRateLimit } from './no-admission.js';

const TURNS = Number(process.env.BENCH_TURNS ?? 200);
const CLAUDE = { timeToFirstTokenMs: 50, tokensPerSecond: 1000 };
const outDir = resolve('bench/results');
mkdirSync(outDir, { recursive: true });

process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
await ensureDynamoDbLocal();
const dynamodb = await startDynamoDbLocal({ port: await findFreePort() });
const sqs = await startSqsEmulator({ port: await findFreePort() });
const emulators = { dynamodbEndpoint: dynamodb.endpoint, sqsEndpoint: sqs.endpoint };
const env = {
  USER_REQUESTS_PER_MINUTE: '100000',
  USER_TOKENS_PER_MINUTE: '100000000',
  USER_MONTHLY_BUDGET_USD: '1000000',
  GLOBAL_MONTHLY_BUDGET_USD: '1000000',
};

const rows: Array<{ path: string } & Summary> = [];
try {
  const product = await startProduct({ ...emulators, env, claude: CLAUDE });
  // The same stack with admission (rate limit + budget reservation) replaced by no-ops.
  const unguarded = await startProduct({
    ...emulators,
    env,
    claude: CLAUDE,
    customizeChat: (deps) => ({ ...deps, ledger: noBudget(deps.ledger), rateLimiter: noRateLimit }),
  });
  // One user per concurrent client, as in production; one user's own parallel turns
  // contend for their month item, which is correct but not the common case.
  const tokens = await Promise.all(
    Array.from({ length: 16 }, (_, i) => product.token(`bench-user-${i}`)),
  );
  const token = (i: number, concurrency: number) => tokens[i % concurrency] as string;
  const direct = directClient(product);
  for (const concurrency of [1, 16]) {
    rows.push({
      path: 'direct to local Claude (SDK)',
      ...(await measure(TURNS, concurrency, (i) => directTurn(direct, i))),
    });
    rows.push({
      path: 'function URL, no budget/rate checks',
      ...(await measure(TURNS, concurrency, (i) => stackTurn(unguarded, token(i, concurrency), i))),
    });
    rows.push({
      path: 'function URL, full stack',
      ...(await measure(TURNS, concurrency, (i) => stackTurn(product, token(i, concurrency), i))),
    });
  }
  await Promise.all([product.close(), unguarded.close()]);
} finally {
  await Promise.all([dynamodb.stop(), sqs.stop()]);
}
const bundles = await measureBundles(outDir);

const ms = (value: number) => value.toFixed(1);
const markdown = [
  `Chat turns (${TURNS} per row; local Claude: ${CLAUDE.timeToFirstTokenMs} ms to first token, ${CLAUDE.tokensPerSecond} tokens/s, ~30-token answers; each concurrent client is its own user). Milliseconds.`,
  '',
  '| path | concurrency | TTFB p50 | TTFB p99 | first token p50 | first token p99 | total p50 | total p99 |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.path} | ${r.concurrency} | ${ms(r.ttfbP50)} | ${ms(r.ttfbP99)} | ${ms(r.ttftP50)} | ${ms(r.ttftP99)} | ${ms(r.totalP50)} | ${ms(r.totalP99)} |`,
  ),
  '',
  '| function bundle | size (KiB, minified, AWS SDK external) | cold import (ms, median of 10) |',
  '| --- | ---: | ---: |',
  ...bundles.map((b) => `| ${b.name} | ${(b.bytes / 1024).toFixed(0)} | ${ms(b.coldImportMs)} |`),
].join('\n');
writeFileSync(
  resolve(outDir, 'latest.json'),
  `${JSON.stringify({ date: new Date().toISOString(), turns: rows, bundles }, null, 2)}\n`,
);
writeFileSync(resolve(outDir, 'latest.md'), `${markdown}\n`);
console.log(markdown);
process.exit(0);
