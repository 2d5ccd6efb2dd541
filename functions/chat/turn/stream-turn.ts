import { PassThrough, type Readable } from 'node:stream';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { StopReason } from '../../../shared/domain/conversation.js';
import { ModelError } from '../../../shared/domain/errors.js';
import { nanoToUsd } from '../../../shared/domain/pricing/model-price.js';
import { SSE_PING, sseEvent } from '../../../shared/domain/sse.js';
import { estimateTokens } from '../../../shared/domain/tokens.js';
import type { TokenUsage } from '../../../shared/domain/usage.js';
import { METRIC } from '../../../shared/observability/metric-names.js';
import type { ChatDependencies } from '../dependencies.js';
import { afterTurn } from './after-turn.js';
import type { StartedTurn } from './start-turn.js';

const DEFAULT_PING_MS = 15_000;

/**
 * Streams a started turn as SSE. Runs to the end whether or not anyone still reads
 * (on AWS a disconnect never reaches the function): the answer is stored before
 * `done`, and a turn that fails, stops or times out stores what it produced.
 */
export function streamTurn(
  deps: ChatDependencies,
  turn: StartedTurn,
  logger: Logger,
  metrics: Metrics,
): Readable {
  const body = new PassThrough();
  void runTurn(deps, turn, body, logger, metrics).finally(() => {
    turn.controller.dispose();
    metrics.publishStoredMetrics();
    body.end();
  });
  return body;
}

async function runTurn(
  deps: ChatDependencies,
  turn: StartedTurn,
  body: PassThrough,
  logger: Logger,
  metrics: Metrics,
): Promise<void> {
  const { settings, store } = deps;
  const now = deps.clock ?? Date.now;
  const { controller, stream } = turn;
  const write = (chunk: string) => {
    if (!body.destroyed) body.write(chunk);
  };

  write(
    sseEvent('start', {
      conversationId: turn.conversationId,
      messageId: turn.messageId,
      model: stream.model,
    }),
  );
  controller.every(deps.pingIntervalMs ?? DEFAULT_PING_MS, () => write(SSE_PING));
  controller.touch(settings.STREAM_IDLE_TIMEOUT_MS);

  let text = '';
  let usage: TokenUsage = stream.initialUsage;
  let finalUsage = false;
  let stopReason: StopReason | undefined;
  let failure: ModelError | undefined;
  try {
    for await (const event of stream) {
      controller.touch(settings.STREAM_IDLE_TIMEOUT_MS);
      if (event.type === 'text') {
        if (!text)
          metrics.addMetric(
            METRIC.timeToFirstToken,
            MetricUnit.Milliseconds,
            now() - turn.receivedAtMs,
          );
        text += event.text;
        write(sseEvent('delta', { text: event.text }));
      } else if (event.type === 'usage') {
        usage = event.usage;
        finalUsage = true;
      } else {
        stopReason = event.stopReason;
      }
    }
  } catch (error) {
    if (!controller.interruptedBy || controller.interruptedBy === 'idle') {
      failure =
        controller.interruptedBy === 'idle'
          ? new ModelError('timeout', 'the model stopped sending; the answer is incomplete', {
              cause: error,
            })
          : error instanceof ModelError
            ? error
            : new ModelError('api_error', 'the model stream failed', { cause: error });
    }
  }
  const interrupted = controller.interruptedBy;
  const outcome: StopReason = failure
    ? 'error'
    : interrupted === 'stopped' || interrupted === 'timeout'
      ? interrupted
      : (stopReason ?? 'end_turn');
  if (!finalUsage) {
    // The stream ended before message_delta: bill what was surely produced.
    usage = { ...usage, outputTokens: Math.max(usage.outputTokens, estimateTokens(text)) };
  }
  const costNanoUsd = settings.prices.costNanoUsd(stream.model, usage);

  try {
    await store.finishTurn({
      userId: turn.userId,
      conversationId: turn.conversationId,
      turnId: turn.messageId,
      userSeq: turn.userSeq,
      answer: {
        id: turn.messageId,
        content: text,
        model: stream.model,
        stopReason: outcome,
        usage,
        usageEstimated: !finalUsage,
        costNanoUsd,
        tokens: estimateTokens(text),
      },
      nowIso: new Date(now()).toISOString(),
    });
  } catch (error) {
    logger.error('could not store the answer', { error });
    failure ??= new ModelError('api_error', 'the answer could not be stored', { cause: error });
  }

  await afterTurn(deps, turn, { text, usage, costNanoUsd, failure }, logger, metrics);
  logger.info('turn ended', {
    conversationId: turn.conversationId,
    messageId: turn.messageId,
    model: stream.model,
    stopReason: outcome,
    usage,
    usageEstimated: !finalUsage,
    costUsd: nanoToUsd(costNanoUsd),
  });

  if (failure) {
    write(
      sseEvent('error', {
        error: { type: failure.type, message: failure.message },
        retryable: failure.retryable,
      }),
    );
    return;
  }
  write(
    sseEvent('done', {
      messageId: turn.messageId,
      stopReason: outcome,
      usage: {
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        cacheReadInputTokens: usage.cacheReadInputTokens,
        cacheCreationInputTokens: usage.cacheCreationInputTokens,
      },
      costUsd: nanoToUsd(costNanoUsd),
    }),
  );
}
