import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC } from './metric-names.js';

/**
 * The last line of defence against a promise rejection nothing observed. Every path of a
 * turn is built never to reject unobserved; should one slip, it is logged with its cause
 * and counted (UnhandledErrors, alarmed), and the process lives on. Node's default, and
 * the Lambda runtime's, is to exit: that would cut every stream the process serves and
 * skip the answers, settlements and holds their turns still have to write.
 */
export function guardProcess(logger: Logger, metrics: Metrics): void {
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled promise rejection', { error: reason });
    const count = metrics.singleMetric();
    count.addMetric(METRIC.unhandledErrors, MetricUnit.Count, 1);
  });
}
