import { describe, expect, it } from 'vitest';
import { createModelListing } from '../../../../../functions/chat/messages/list-models.js';
import type { Caller } from '../../../../../functions/chat/messages/messages-types.js';
import { NotFoundError, ValidationError } from '../../../../../shared/domain/errors.js';
import type { MessagesUpstream, ModelInfo } from '../../../../../shared/ports/messages-upstream.js';

const T0_MS = Date.parse('2026-11-15T10:00:00.000Z');
const TEN_MINUTES_MS = 10 * 60_000;

const model = (id: string, display_name: string, created_at: string): ModelInfo => ({
  type: 'model',
  id,
  display_name,
  created_at,
  max_tokens: 64_000,
  max_input_tokens: 200_000,
  capabilities: { batch: { supported: true }, effort: { supported: false } },
  lifecycle: 'active',
});

const UPSTREAM_MODELS = [
  model('claude-sonnet-4-5-20250929', 'Claude Sonnet 4.5', '2025-09-29T00:00:00Z'),
  model('claude-opus-4-5-20251101', 'Claude Opus 4.5', '2025-11-24T00:00:00Z'),
  model('claude-haiku-4-5-20251001', 'Claude Haiku 4.5', '2025-10-15T00:00:00Z'),
  model('claude-3-5-haiku-20241022', 'Claude Haiku 3.5', '2024-10-22T00:00:00Z'),
];

/** The upstream's model list; counts how often it is read. */
class ListingUpstream implements MessagesUpstream {
  listCalls = 0;
  constructor(private readonly models: ModelInfo[] = UPSTREAM_MODELS) {}
  async send(): Promise<never> {
    throw new Error('the model listing sends no messages');
  }
  async listModels({ signal }: { signal: AbortSignal }): Promise<ModelInfo[]> {
    expect(signal).toBeInstanceOf(AbortSignal);
    this.listCalls++;
    return structuredClone(this.models);
  }
}

/** The deployment's models: dated ids, an alias, and one the upstream does not list. */
const DEPLOYMENT_MODELS = [
  'claude-opus-4-5-20251101',
  'claude-sonnet-4-5',
  'claude-haiku-4-5-20251001',
  'claude-mythical-9-1',
];
/** Newest first: Opus (Nov), Haiku (Oct), the Sonnet alias (Sep), then the undated one. */
const NEWEST_FIRST = [
  'claude-opus-4-5-20251101',
  'claude-haiku-4-5-20251001',
  'claude-sonnet-4-5',
  'claude-mythical-9-1',
];

const alice: Caller = { userId: 'alice' };

function listingFixture(models: readonly string[] = DEPLOYMENT_MODELS) {
  const upstream = new ListingUpstream();
  let nowMs = T0_MS;
  const listing = createModelListing({
    upstream,
    clock: () => nowMs,
    limits: { models: new Set(models), firstByteTimeoutMs: 5_000, modelMaxRetries: 2 },
  });
  return {
    upstream,
    listing,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

const idsOf = (page: { data: ModelInfo[] }) => page.data.map((described) => described.id);

describe('createModelListing', () => {
  it("lists the deployment's models only, newest first", async () => {
    const { listing } = listingFixture();

    const page = await listing.list(alice, { limit: 20 });

    expect(idsOf(page)).toEqual(NEWEST_FIRST);
  });

  it("narrows the list to the models the caller's API key allows", async () => {
    const { listing } = listingFixture();
    const caller: Caller = {
      userId: 'alice',
      apiKey: { id: 'key_1', allowedModels: ['claude-sonnet-4-5', 'claude-3-5-haiku-20241022'] },
    };

    const page = await listing.list(caller, { limit: 20 });

    expect(idsOf(page)).toEqual(['claude-sonnet-4-5']);
  });

  it('describes a model as the upstream does', async () => {
    const { listing } = listingFixture();

    await expect(listing.get(alice, 'claude-opus-4-5-20251101')).resolves.toEqual(
      UPSTREAM_MODELS[1],
    );
  });

  it('describes an alias like the dated model it names, every field of it', async () => {
    const { listing } = listingFixture();

    await expect(listing.get(alice, 'claude-sonnet-4-5')).resolves.toEqual({
      ...UPSTREAM_MODELS[0],
      id: 'claude-sonnet-4-5',
    });
  });

  it('derives a display name for a model the upstream does not list', async () => {
    const { listing } = listingFixture();

    const described = await listing.get(alice, 'claude-mythical-9-1');

    expect(described).toMatchObject({
      type: 'model',
      id: 'claude-mythical-9-1',
      display_name: 'Claude Mythical 9.1',
    });
  });

  it('derives a display name without its date for a dated model the upstream does not list', async () => {
    const { listing } = listingFixture(['claude-opus-4-20250514']);

    const described = await listing.get(alice, 'claude-opus-4-20250514');

    expect(described.display_name).toBe('Claude Opus 4');
  });

  it('orders models of the same day by id', async () => {
    const upstream = new ListingUpstream([
      model('claude-b-1-20250101', 'B', '2025-01-01T00:00:00Z'),
      model('claude-a-1-20250101', 'A', '2025-01-01T00:00:00Z'),
    ]);
    const listing = createModelListing({
      upstream,
      clock: () => T0_MS,
      limits: {
        models: new Set(['claude-b-1-20250101', 'claude-a-1-20250101']),
        firstByteTimeoutMs: 5_000,
        modelMaxRetries: 2,
      },
    });

    expect(idsOf(await listing.list(alice, { limit: 20 }))).toEqual([
      'claude-a-1-20250101',
      'claude-b-1-20250101',
    ]);
  });

  it('lists active and deprecated models by default, a retired one only when lifecycle asks for it (the filter was ignored)', async () => {
    const upstream = new ListingUpstream([
      model('claude-a-1-20250101', 'A', '2025-01-01T00:00:00Z'),
      { ...model('claude-b-1-20250102', 'B', '2025-01-02T00:00:00Z'), lifecycle: 'deprecated' },
      { ...model('claude-c-1-20250103', 'C', '2025-01-03T00:00:00Z'), lifecycle: 'retired' },
    ]);
    const listing = createModelListing({
      upstream,
      clock: () => T0_MS,
      limits: {
        models: new Set(['claude-a-1-20250101', 'claude-b-1-20250102', 'claude-c-1-20250103']),
        firstByteTimeoutMs: 5_000,
        modelMaxRetries: 2,
      },
    });
    const list = (lifecycles?: Array<'active' | 'deprecated' | 'retired'>) =>
      listing.list(alice, { limit: 20, ...(lifecycles && { lifecycles }) }).then(idsOf);

    expect(await list()).toEqual(['claude-b-1-20250102', 'claude-a-1-20250101']);
    expect(await list(['deprecated'])).toEqual(['claude-b-1-20250102']);
    expect(await list(['retired', 'active'])).toEqual([
      'claude-c-1-20250103',
      'claude-a-1-20250101',
    ]);
    await expect(listing.get(alice, 'claude-c-1-20250103')).resolves.toMatchObject({
      lifecycle: 'retired',
    });
  });

  describe('paging', () => {
    it('gives the first page and says there is more', async () => {
      const { listing } = listingFixture();

      const page = await listing.list(alice, { limit: 2 });

      expect(page).toMatchObject({
        has_more: true,
        first_id: NEWEST_FIRST[0],
        last_id: NEWEST_FIRST[1],
      });
      expect(idsOf(page)).toEqual(NEWEST_FIRST.slice(0, 2));
    });

    it('gives the page after after_id', async () => {
      const { listing } = listingFixture();

      const middle = await listing.list(alice, { limit: 2, afterId: NEWEST_FIRST[0] });
      const last = await listing.list(alice, { limit: 2, afterId: NEWEST_FIRST[1] });

      expect(idsOf(middle)).toEqual(NEWEST_FIRST.slice(1, 3));
      expect(middle.has_more).toBe(true);
      expect(idsOf(last)).toEqual(NEWEST_FIRST.slice(2));
      expect(last).toMatchObject({
        has_more: false,
        first_id: NEWEST_FIRST[2],
        last_id: NEWEST_FIRST[3],
      });
    });

    it('gives the page just before before_id, saying whether there is more before it', async () => {
      const { listing } = listingFixture();

      const before = await listing.list(alice, { limit: 2, beforeId: NEWEST_FIRST[3] });
      const first = await listing.list(alice, { limit: 2, beforeId: NEWEST_FIRST[1] });

      expect(idsOf(before)).toEqual(NEWEST_FIRST.slice(1, 3));
      expect(before).toMatchObject({
        has_more: true,
        first_id: NEWEST_FIRST[1],
        last_id: NEWEST_FIRST[2],
      });
      expect(idsOf(first)).toEqual(NEWEST_FIRST.slice(0, 1));
      expect(first.has_more).toBe(false);
    });

    it('walks the whole list with after_id, each model once', async () => {
      const { listing } = listingFixture();
      const seen: string[] = [];
      let page = await listing.list(alice, { limit: 1 });
      seen.push(...idsOf(page));
      while (page.has_more && page.last_id) {
        page = await listing.list(alice, { limit: 1, afterId: page.last_id });
        seen.push(...idsOf(page));
      }

      expect(seen).toEqual(NEWEST_FIRST);
    });

    it("refuses a cursor that is not among the caller's models, as the API does", async () => {
      const { listing } = listingFixture();

      await expect(listing.list(alice, { limit: 2, afterId: 'zzz' })).rejects.toThrow(
        ValidationError,
      );
      await expect(listing.list(alice, { limit: 2, beforeId: 'zzz' })).rejects.toThrow(
        /^before_id: no model with id 'zzz'$/,
      );
    });

    it('refuses after_id and before_id together', async () => {
      const { listing } = listingFixture();

      await expect(
        listing.list(alice, { limit: 2, afterId: NEWEST_FIRST[0], beforeId: NEWEST_FIRST[3] }),
      ).rejects.toThrow(ValidationError);
    });

    it('gives an empty page with null ids when the caller may use no model', async () => {
      const { listing } = listingFixture();
      const caller: Caller = {
        userId: 'alice',
        apiKey: { id: 'key_1', allowedModels: ['claude-3-5-haiku-20241022'] },
      };

      await expect(listing.list(caller, { limit: 20 })).resolves.toEqual({
        data: [],
        has_more: false,
        first_id: null,
        last_id: null,
      });
    });
  });

  it("reads the upstream's list once per 10 minutes, for every caller", async () => {
    const { listing, upstream, advance } = listingFixture();
    const bob: Caller = {
      userId: 'bob',
      apiKey: { id: 'key_2', allowedModels: ['claude-sonnet-4-5'] },
    };

    await listing.list(alice, { limit: 20 });
    advance(TEN_MINUTES_MS - 1);
    await listing.list(bob, { limit: 20 });
    await listing.get(alice, 'claude-sonnet-4-5');
    expect(upstream.listCalls).toBe(1);

    advance(1);
    await listing.list(alice, { limit: 20 });
    expect(upstream.listCalls).toBe(2);
  });

  it.each([
    ['the deployment does not allow', alice, 'claude-3-5-haiku-20241022'],
    ['nobody offers', alice, 'claude-imaginary-1'],
    [
      "the caller's API key does not allow",
      { userId: 'alice', apiKey: { id: 'key_1', allowedModels: ['claude-sonnet-4-5'] } },
      'claude-opus-4-5-20251101',
    ],
  ])('does not find a model %s', async (_, caller: Caller, id) => {
    const { listing } = listingFixture();

    await expect(listing.get(caller, id)).rejects.toThrow(NotFoundError);
  });
});
