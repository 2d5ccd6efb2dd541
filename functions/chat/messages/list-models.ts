import type { Clock } from '../../../shared/domain/clock.js';
import { NotFoundError, ValidationError } from '../../../shared/domain/errors.js';
import { withoutDateSuffix } from '../../../shared/domain/model-id.js';
import { namedId } from '../../../shared/domain/quoted.js';
import type { MessagesUpstream, ModelInfo } from '../../../shared/ports/messages-upstream.js';
import type { Caller, MessagesLimits } from './messages-types.js';
import { modelsFor } from './model-access.js';

/** Model metadata changes rarely: the upstream's list is read at most this often. */
const UPSTREAM_LIST_TTL_MS = 10 * 60_000;

export interface ModelPage {
  data: ModelInfo[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

/** A model's stage, as the Models API's `lifecycle` filter names it. */
export const MODEL_LIFECYCLES = ['active', 'deprecated', 'retired'] as const;
export type ModelLifecycle = (typeof MODEL_LIFECYCLES)[number];

/** What the API lists when no `lifecycle` is asked for: retired models only on request. */
const LISTED_BY_DEFAULT: readonly string[] = ['active', 'deprecated'];

export interface ModelListing {
  /**
   * The caller's models, newest first, in the API's list shape and paging; only those in
   * `lifecycles` (by default active and deprecated, as the API lists them).
   */
  list(
    caller: Caller,
    page: {
      limit: number;
      afterId?: string;
      beforeId?: string;
      lifecycles?: readonly ModelLifecycle[];
    },
  ): Promise<ModelPage>;
  /** @throws NotFoundError for a model the caller may not use */
  get(caller: Caller, id: string): Promise<ModelInfo>;
}

/** GET /v1/models: the models this caller may use, described as the upstream describes them. */
export function createModelListing(deps: {
  upstream: MessagesUpstream;
  clock: Clock;
  limits: Pick<MessagesLimits, 'models' | 'firstByteTimeoutMs' | 'modelMaxRetries'>;
}): ModelListing {
  const { upstream, clock, limits } = deps;
  let known: { models: Map<string, ModelInfo>; readAtMs: number } | undefined;

  async function upstreamModels(): Promise<Map<string, ModelInfo>> {
    if (known && clock() - known.readAtMs < UPSTREAM_LIST_TTL_MS) return known.models;
    const models = await upstream.listModels({
      signal: AbortSignal.timeout(limits.firstByteTimeoutMs),
      maxRetries: limits.modelMaxRetries,
    });
    known = { models: new Map(models.map((model) => [model.id, model])), readAtMs: clock() };
    return known.models;
  }

  async function callerModels(caller: Caller): Promise<ModelInfo[]> {
    const described = await upstreamModels();
    return modelsFor(caller, limits)
      .map((id) => described.get(id) ?? describedAlias(id, described))
      .sort((a, b) => b.created_at.localeCompare(a.created_at) || a.id.localeCompare(b.id));
  }

  return {
    async list(caller, { limit, afterId, beforeId, lifecycles = LISTED_BY_DEFAULT }) {
      if (afterId !== undefined && beforeId !== undefined) {
        throw new ValidationError('before_id and after_id cannot be used together');
      }
      const models = (await callerModels(caller)).filter((model) =>
        lifecycles.includes(lifecycleOf(model)),
      );
      const window =
        beforeId !== undefined
          ? models.slice(0, cursorIndex(models, beforeId, 'before_id'))
          : models.slice(afterId === undefined ? 0 : cursorIndex(models, afterId, 'after_id') + 1);
      const data = beforeId !== undefined ? window.slice(-limit) : window.slice(0, limit);
      return {
        data,
        has_more: data.length < window.length,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
      };
    },
    async get(caller, id) {
      const models = await callerModels(caller);
      const model = models.find((candidate) => candidate.id === id);
      if (model) return model;
      // A dated snapshot of a model the caller may use is that model, as /v1/messages takes
      // it: described as the upstream describes the snapshot, if it knows it.
      const alias = withoutDateSuffix(id);
      const snapshot =
        alias !== id && models.some((candidate) => candidate.id === alias)
          ? (await upstreamModels()).get(id)
          : undefined;
      if (!snapshot) throw new NotFoundError(`model: ${namedId(id)}`);
      return snapshot;
    },
  };
}

/** A model the upstream describes without a stage (one it does not list) is allowed here: active. */
function lifecycleOf(model: ModelInfo): string {
  return typeof model.lifecycle === 'string' ? model.lifecycle : 'active';
}

/** Where a page cursor is among the caller's models; as the API does, an unknown one is a 400. */
function cursorIndex(models: readonly ModelInfo[], id: string, name: string): number {
  const index = models.findIndex((model) => model.id === id);
  if (index === -1) throw new ValidationError(`${name}: no model with id '${namedId(id)}'`);
  return index;
}

/** An alias the upstream does not list (`claude-sonnet-4-6` for its dated id) is described like it. */
function describedAlias(id: string, described: Map<string, ModelInfo>): ModelInfo {
  const dated = [...described.values()].find((model) => model.id.replace(/-\d{8}$/, '') === id);
  if (dated) return { ...dated, id };
  return { type: 'model', id, display_name: displayNameOf(id), created_at: '1970-01-01T00:00:00Z' };
}

/** `claude-sonnet-4-6` → `Claude Sonnet 4.6`. */
function displayNameOf(id: string): string {
  return id
    .replace(/-\d{8}$/, '')
    .replace(/-(\d+)-(\d+)(?=$|-)/, ' $1.$2')
    .split(/[-\s]/)
    .map((word) => (word ? word[0]!.toUpperCase() + word.slice(1) : word))
    .join(' ');
}
