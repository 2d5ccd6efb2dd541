import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { WorkerDependencies } from './dependencies.js';
import { createRecordHandler } from './process-record.js';

/**
 * The worker: consumes the jobs queue in batches and reports partial batch
 * failures, so one failing job never makes SQS redeliver the others.
 */
export function createWorkerHandler(deps: WorkerDependencies) {
  const processor = new BatchProcessor(EventType.SQS);
  const handleRecord = createRecordHandler(deps);
  return middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(logMetrics(deps.metrics))
    .handler((event, context) =>
      processPartialResponse(
        event,
        (record: SQSRecord) => handleRecord(record, context),
        processor,
        {
          context,
          throwOnFullBatchFailure: false,
        },
      ),
    );
}
