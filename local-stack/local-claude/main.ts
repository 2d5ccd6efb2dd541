import { startLocalClaude } from './index.js';

// Standalone: `PORT=4010 npx tsx local-stack/local-claude/main.ts`
const port = Number(process.env.PORT ?? 4010);
const claude = await startLocalClaude({ port, host: process.env.HOST ?? '127.0.0.1' });
console.log(`local Claude listening on ${claude.url} (ANTHROPIC_BASE_URL=${claude.url})`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void claude.close().then(() => process.exit(0));
  });
}
