/** Run by process-guard.test.ts: a process with the guard, then a rejection nothing observes. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { guardProcess } from '../../../../shared/observability/process-guard.js';

guardProcess(
  new Logger({ serviceName: 'chat' }),
  new Metrics({ namespace: 'ClaudeServerless', serviceName: 'chat' }),
);
void Promise.reject(new Error('nobody is listening'));
setTimeout(() => console.log('still serving'), 100);
