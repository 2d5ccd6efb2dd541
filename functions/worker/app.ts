import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { HandleRecord } from './process-record.js';

/**
 * The worker: consumes the jobs queue in batches and reports partial batch
 * failures, so one failing job never makes SQS redeliver the others. Middlewares in
 * the usual order: tracing, logger context, metrics.
 */
export function createWorkerHandler(deps: {
  handleRecord: HandleRecord;
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}) {
  const processor = new BatchProcessor(EventType.SQS);
  return middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(captureLambdaHandler(deps.tracer, { captureResponse: false }))
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(logMetrics(deps.metrics))
    .handler((event, context) =>
      processPartialResponse(
        event,
        (record: SQSRecord) => deps.handleRecord(record, context),
        processor,
        { context, throwOnFullBatchFailure: false },
      ),
    );
}
