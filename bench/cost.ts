import { nanoToUsd } from '../shared/domain/pricing/model-price.js';
import { PriceTable } from '../shared/domain/pricing/price-table.js';
import type { DynamoDbPerTurn } from './rows.js';

/**
 * AWS list prices (us-east-1, November 2026; see /work/shared/FIELD-NOTES.md, verify before
 * relying): https://aws.amazon.com/dynamodb/pricing/on-demand/ and
 * https://aws.amazon.com/lambda/pricing/ (arm64).
 */
export const AWS_PRICES = {
  dynamodbUsdPerWriteUnit: 0.625 / 1e6,
  dynamodbUsdPerReadUnit: 0.125 / 1e6,
  lambdaArmUsdPerGbSecond: 0.0000133334,
  lambdaUsdPerRequest: 0.2 / 1e6,
} as const;

/** One vCPU at 1,769 MB; below it the CPU share is proportional to memory. */
export const MB_PER_VCPU = 1769;

/** The turn the cost target is about: Sonnet, 2,000 tokens in, 500 out, 15 s of streaming. */
export const TYPICAL_SONNET_TURN = {
  model: 'claude-sonnet-4-6',
  inputTokens: 2000,
  outputTokens: 500,
  streamSeconds: 15,
} as const;

/** Its Claude cost from the project's price table. */
export function typicalClaudeUsd(): number {
  const { model, inputTokens, outputTokens } = TYPICAL_SONNET_TURN;
  return nanoToUsd(
    new PriceTable().costNanoUsd(model, {
      inputTokens,
      outputTokens,
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 0,
    }),
  );
}

export interface TurnCost {
  memoryMb: number;
  gbSeconds: number;
  lambdaUsd: number;
  dynamodbUsd: number;
  awsUsd: number;
  claudeUsd: number;
  /** AWS as a share of Claude, in percent. */
  awsPercentOfClaude: number;
}

export function turnCost(
  memoryMb: number,
  durationSeconds: number,
  dynamodb: Pick<DynamoDbPerTurn, 'rcu' | 'wcu'>,
): TurnCost {
  const gbSeconds = (memoryMb / 1024) * durationSeconds;
  const lambdaUsd = gbSeconds * AWS_PRICES.lambdaArmUsdPerGbSecond + AWS_PRICES.lambdaUsdPerRequest;
  const dynamodbUsd =
    dynamodb.wcu * AWS_PRICES.dynamodbUsdPerWriteUnit +
    dynamodb.rcu * AWS_PRICES.dynamodbUsdPerReadUnit;
  const claudeUsd = typicalClaudeUsd();
  const awsUsd = lambdaUsd + dynamodbUsd;
  return {
    memoryMb,
    gbSeconds,
    lambdaUsd,
    dynamodbUsd,
    awsUsd,
    claudeUsd,
    awsPercentOfClaude: (awsUsd / claudeUsd) * 100,
  };
}

export interface MemoryOption extends TurnCost {
  vcpu: number;
  /** Does the measured one-stream peak RSS fit with the headroom? */
  fits: boolean;
  /** Share of the CPU allotment a stream keeps busy on average (measured CPU ÷ duration ÷ vCPU). */
  cpuBusy: number;
  /** CPU before the first token, stretched by the CPU share (ms, this machine's cores). */
  cpuMsBeforeFirstToken: number;
}

export interface MemoryRecommendation {
  /** Smallest memory that holds one stream's peak RSS × RSS_HEADROOM and keeps CPU ≤ MAX_CPU_BUSY. */
  minimumMb: number;
  /** Largest memory whose typical turn keeps AWS at or under 1% of Claude. */
  maximumMbForTarget: number;
  recommendedMb: number;
  options: MemoryOption[];
}

/** Memory over the measured peak: GC slack, larger prompts (a 6 MB request body parsed). */
export const RSS_HEADROOM = 1.5;
/** A streaming turn should leave most of its CPU allotment idle, or its deltas queue. */
export const MAX_CPU_BUSY = 0.5;
const CANDIDATES_MB = [256, 384, 512, 640, 768, 1024, 1536, MB_PER_VCPU];

/**
 * The chat memory size from measurement: enough for one stream's peak RSS with headroom (a
 * Lambda execution environment streams one request at a time) and for its CPU (memory / 1,769
 * MB of a vCPU, at most half busy on average), then as much CPU as the 1% cost target allows,
 * rounded down to 64 MB: the CPU share also stretches the work before the first token.
 */
export function recommendMemory(measured: {
  oneStreamPeakRssBytes: number;
  /** CPU per typical turn under concurrent streams (steady state). */
  cpuMsPerTurn: number;
  cpuMsBeforeFirstToken: number;
  turnSeconds: number;
  dynamodb: Pick<DynamoDbPerTurn, 'rcu' | 'wcu'>;
}): MemoryRecommendation {
  const cpuBusyAt = (memoryMb: number) =>
    measured.cpuMsPerTurn / (measured.turnSeconds * 1000) / Math.min(1, memoryMb / MB_PER_VCPU);
  const forRss = (measured.oneStreamPeakRssBytes * RSS_HEADROOM) / 2 ** 20;
  const forCpu =
    (measured.cpuMsPerTurn / (measured.turnSeconds * 1000) / MAX_CPU_BUSY) * MB_PER_VCPU;
  const minimumMb = Math.ceil(Math.max(forRss, forCpu, 128) / 64) * 64;
  const atOneMb = turnCost(1, measured.turnSeconds, measured.dynamodb);
  const fixedUsd = atOneMb.dynamodbUsd + AWS_PRICES.lambdaUsdPerRequest;
  const usdPerMb = atOneMb.lambdaUsd - AWS_PRICES.lambdaUsdPerRequest;
  const maximumMbForTarget = Math.floor((atOneMb.claudeUsd * 0.01 - fixedUsd) / usdPerMb / 64) * 64;
  const recommendedMb = Math.max(minimumMb, Math.min(maximumMbForTarget, MB_PER_VCPU));
  const sizes = [...new Set([...CANDIDATES_MB, recommendedMb])].sort((a, b) => a - b);
  const options = sizes.map((memoryMb) => {
    const vcpu = Math.min(1, memoryMb / MB_PER_VCPU);
    return {
      ...turnCost(memoryMb, measured.turnSeconds, measured.dynamodb),
      vcpu,
      fits: memoryMb >= minimumMb,
      cpuBusy: cpuBusyAt(memoryMb),
      cpuMsBeforeFirstToken: measured.cpuMsBeforeFirstToken / vcpu,
    };
  });
  return { minimumMb, maximumMbForTarget, recommendedMb, options };
}
