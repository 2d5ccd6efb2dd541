import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_KEPT_REQUESTS,
  startLocalClaude,
} from '../../../local-stack/local-claude/index.js';

describe('local Claude lifecycle', () => {
  it('listens on a random local port and gives a base URL without /v1', async () => {
    const claude = await startLocalClaude();
    try {
      expect(claude.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await claude.close();
    }
  });

  it('names no keep-alive, as the API (behind Cloudflare) does', async () => {
    const claude = await startLocalClaude();
    try {
      const response = await fetch(`${claude.url}/v1/models`);
      await response.text();

      expect(response.headers.get('connection')).toBe('keep-alive');
      expect(response.headers.get('keep-alive')).toBeNull();
    } finally {
      await claude.close();
    }
  });

  it('close() ends a stalled stream, so the client sees an error instead of hanging', async () => {
    const claude = await startLocalClaude({ timeToFirstTokenMs: 0, tokensPerSecond: 0 });
    const client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });
    const stream = await client.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'go [[local-claude: fault=stall after=1]]' }],
    });
    const consumed = (async () => {
      for await (const _event of stream) {
        // drain until the connection goes away
      }
    })();
    await vi.waitFor(() => expect(claude.requests[0]?.outputTokensSent).toBe(1));

    await claude.close();

    await expect(consumed).rejects.toThrow();
    expect(claude.requests[0]?.aborted).toBe(false);
  });

  it('keeps only the latest requests, so one serving `npm start` for hours holds a bounded record', async () => {
    const claude = await startLocalClaude();
    try {
      const sent = DEFAULT_KEPT_REQUESTS + 5;
      for (let n = 1; n <= sent; n++) {
        await (await fetch(`${claude.url}/v1/models`, { headers: { 'x-seq': String(n) } })).text();
      }

      expect(claude.requests).toHaveLength(DEFAULT_KEPT_REQUESTS);
      expect(claude.requests[0]?.headers['x-seq']).toBe('6');
      expect(claude.requests.at(-1)?.headers['x-seq']).toBe(String(sent));
    } finally {
      await claude.close();
    }
  });

  it('keeps every request when told to, as the tests that read them all are', async () => {
    const claude = await startLocalClaude({ keptRequests: Number.POSITIVE_INFINITY });
    try {
      for (let n = 0; n <= DEFAULT_KEPT_REQUESTS; n++) {
        await (await fetch(`${claude.url}/v1/models`)).text();
      }

      expect(claude.requests).toHaveLength(DEFAULT_KEPT_REQUESTS + 1);
    } finally {
      await claude.close();
    }
  });

  it('can be closed twice', async () => {
    const claude = await startLocalClaude();

    await claude.close();

    await expect(claude.close()).resolves.toBeUndefined();
  });
});
