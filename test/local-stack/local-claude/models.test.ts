import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MODELS,
  type LocalClaude,
  startLocalClaude,
} from '../../../local-stack/local-claude/index.js';
import { API_HEADERS } from './fixtures.js';

describe('local Claude models endpoints', () => {
  let claude: LocalClaude;
  let client: Anthropic;
  beforeAll(async () => {
    claude = await startLocalClaude({ timeToFirstTokenMs: 0, tokensPerSecond: 0 });
    client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => claude.close());

  const get = (path: string) => fetch(`${claude.url}${path}`, { headers: API_HEADERS });

  it('lists every configured model through SDK auto-pagination, page by page', async () => {
    const before = claude.requests.length;

    const ids: string[] = [];
    for await (const model of client.models.list({ limit: 3 })) ids.push(model.id);

    expect(ids).toEqual([...DEFAULT_MODELS]);
    const pages = claude.requests.slice(before);
    expect(pages).toHaveLength(Math.ceil(DEFAULT_MODELS.length / 3));
    expect(pages.map((page) => page.query)).toEqual(
      pages.map((_, index) =>
        index === 0 ? { limit: '3' } : { limit: '3', after_id: DEFAULT_MODELS[3 * index - 1] },
      ),
    );
    expect(pages.every((page) => page.method === 'GET' && page.path === '/v1/models')).toBe(true);
  });

  it('lists every default model newest first, each with a release date (none the epoch)', async () => {
    const listed: Anthropic.ModelInfo[] = [];
    for await (const model of client.models.list()) listed.push(model);

    const dates = listed.map((model) => model.created_at);
    expect(dates).toEqual([...dates].sort().reverse());
    expect(dates.filter((date) => date.startsWith('1970'))).toEqual([]);
    expect(listed.find((model) => model.id === 'claude-sonnet-4-6')?.created_at).toBe(
      '2026-02-17T00:00:00Z',
    );
  });

  it('answers one page in the API list shape, 20 models by default', async () => {
    const many = await startLocalClaude({
      models: Array.from({ length: 25 }, (_, index) => `claude-test-${index}`),
    });
    try {
      const response = await fetch(`${many.url}/v1/models`, { headers: API_HEADERS });

      const page = (await response.json()) as { data: Array<{ id: string }> };
      expect(page.data).toHaveLength(20);
      expect(page).toMatchObject({
        has_more: true,
        first_id: 'claude-test-0',
        last_id: 'claude-test-19',
      });
      expect(page.data[0]).toMatchObject({
        type: 'model',
        id: 'claude-test-0',
        display_name: 'Claude Test 0',
        created_at: '1970-01-01T00:00:00Z',
      });
    } finally {
      await many.close();
    }
  });

  it('filters by lifecycle as the SDK sends it: every local model is active', async () => {
    const active = await client.models.list({ lifecycle: ['active'] });
    const retired = await client.models.list({ lifecycle: ['deprecated', 'retired'] });

    expect(active.data).toHaveLength(DEFAULT_MODELS.length);
    expect(retired.data).toEqual([]);
    expect(claude.requests.at(-1)?.path).toBe('/v1/models');
  });

  it('pages backwards from before_id', async () => {
    const response = await get(`/v1/models?limit=2&before_id=${DEFAULT_MODELS[3]}`);

    expect(await response.json()).toMatchObject({
      data: [{ id: DEFAULT_MODELS[1] }, { id: DEFAULT_MODELS[2] }],
      has_more: true,
      first_id: DEFAULT_MODELS[1],
      last_id: DEFAULT_MODELS[2],
    });
  });

  it('says there is nothing more after the last page', async () => {
    const response = await get(`/v1/models?after_id=${DEFAULT_MODELS.at(-2)}`);

    expect(await response.json()).toEqual({
      data: [expect.objectContaining({ id: DEFAULT_MODELS.at(-1) })],
      has_more: false,
      first_id: DEFAULT_MODELS.at(-1),
      last_id: DEFAULT_MODELS.at(-1),
    });
  });

  it('retrieves one model with its display name, release date and output limit', async () => {
    const dated = await client.models.retrieve('claude-sonnet-4-5-20250929');
    const alias = await client.models.retrieve('claude-haiku-4-5');

    expect(dated).toMatchObject({
      type: 'model',
      id: 'claude-sonnet-4-5-20250929',
      display_name: 'Claude Sonnet 4.5',
      created_at: '2025-09-29T00:00:00Z',
      max_tokens: 64_000,
    });
    expect(alias).toMatchObject({
      display_name: 'Claude Haiku 4.5',
      created_at: '2025-10-01T00:00:00Z',
    });
    expect(claude.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: '/v1/models/claude-haiku-4-5',
    });
  });

  it("knows the Claude 5 models, Claude Code's default among them, with their release dates and 128K output", async () => {
    const opus = await client.models.retrieve('claude-opus-5-5');
    const haiku = await client.models.retrieve('claude-haiku-5-5');

    expect(opus).toMatchObject({
      id: 'claude-opus-5-5',
      display_name: 'Claude Opus 5.5',
      created_at: '2026-09-22T00:00:00Z',
      max_tokens: 128_000,
    });
    expect(haiku).toMatchObject({ created_at: '2026-10-07T00:00:00Z', max_tokens: 128_000 });
  });

  it('answers an unknown model id with 404 not_found_error', async () => {
    await expect(client.models.retrieve('claude-nope-1')).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
    const response = await get('/v1/models/claude-nope-1');

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error', message: 'model: claude-nope-1' },
    });
  });

  it.each([
    ['limit=0', 'limit: Input should be greater than or equal to 1'],
    ['limit=1001', 'limit: Input should be less than or equal to 1000'],
    ['limit=ten', 'limit: Input should be a valid integer'],
    ['after_id=claude-nope-1', "after_id: no model with id 'claude-nope-1'"],
  ])('rejects %s with 400 invalid_request_error', async (query, message) => {
    const response = await get(`/v1/models?${query}`);

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { type: 'invalid_request_error', message },
    });
  });

  it('requires an API key like every endpoint', async () => {
    const response = await fetch(`${claude.url}/v1/models`, {
      headers: { 'anthropic-version': '2023-06-01' },
    });

    expect(response.status).toBe(401);
  });
});
