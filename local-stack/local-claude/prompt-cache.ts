import { type PromptSegment, promptTokens } from './prompt.js';

/** How the prompt tokens of one request split between the cache and plain input. */
export interface CacheUsage {
  inputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
  cacheCreation: { ephemeral5mInputTokens: number; ephemeral1hInputTokens: number };
}

const TTL_MS = { '5m': 5 * 60_000, '1h': 60 * 60_000 } as const;

/** The API checks for hits at each breakpoint and up to about 20 blocks before it. */
const LOOKBACK_BLOCKS = 20;

interface Entry {
  expiresAt: number;
  ttlMs: number;
}

/**
 * An in-memory prompt cache with the API's rules: prefixes end at breakpoints, are keyed
 * by model and exact content, expire after their TTL (refreshed on every hit), and are
 * neither read nor written below the minimum cacheable length.
 */
export class PromptCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly minCacheableTokens: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads the longest cached prefix, writes the new ones, and returns the usage. */
  apply(model: string, segments: readonly PromptSegment[]): CacheUsage {
    const total = promptTokens(segments);
    const ends = prefixEnds(segments);
    const breakpoints = segments.flatMap((segment, index) =>
      segment.breakpointTtl ? [index] : [],
    );
    const eligible = (index: number) => ends[index]! >= this.minCacheableTokens;
    this.evictExpired();

    let hit = -1;
    for (const breakpoint of breakpoints) {
      for (let index = breakpoint; index > breakpoint - LOOKBACK_BLOCKS && index >= 0; index--) {
        if (eligible(index) && this.entries.has(this.key(model, segments[index]!))) {
          hit = Math.max(hit, index);
          break;
        }
      }
    }
    const cacheReadInputTokens = hit >= 0 ? ends[hit]! : 0;
    if (hit >= 0) this.refresh(this.key(model, segments[hit]!));

    const creation = { ephemeral5mInputTokens: 0, ephemeral1hInputTokens: 0 };
    let covered = cacheReadInputTokens;
    for (const index of breakpoints) {
      const segment = segments[index]!;
      const ttl = segment.breakpointTtl!;
      if (index <= hit) {
        this.refresh(this.key(model, segment));
        continue;
      }
      if (!eligible(index)) continue;
      const written = ends[index]! - covered;
      if (ttl === '1h') creation.ephemeral1hInputTokens += written;
      else creation.ephemeral5mInputTokens += written;
      covered = ends[index]!;
      this.entries.set(this.key(model, segment), {
        expiresAt: this.now() + TTL_MS[ttl],
        ttlMs: TTL_MS[ttl],
      });
    }
    return {
      inputTokens: total - covered,
      cacheReadInputTokens,
      cacheCreationInputTokens: creation.ephemeral5mInputTokens + creation.ephemeral1hInputTokens,
      cacheCreation: creation,
    };
  }

  private key(model: string, segment: PromptSegment): string {
    return `${model}\u0000${segment.prefixHash}`;
  }

  private refresh(key: string): void {
    const entry = this.entries.get(key);
    if (entry) entry.expiresAt = this.now() + entry.ttlMs;
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(key);
    }
  }
}

/** Tokens of the prefix ending at each block. */
function prefixEnds(segments: readonly PromptSegment[]): number[] {
  let sum = 0;
  return segments.map((segment) => {
    sum += segment.tokens;
    return sum;
  });
}
