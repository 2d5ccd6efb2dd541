import { loadSettings } from '../../shared/config/load-settings.js';
import { guardProcess } from '../../shared/observability/process-guard.js';
import { composeWorker, createWorkerAdapters } from './compose.js';

/** Composition root: settings read once per cold start, real clients, the middleware chain. */
const settings = loadSettings(process.env, { role: 'worker' });
const adapters = createWorkerAdapters(settings);
guardProcess(adapters.logger, adapters.metrics);
export const handler = composeWorker(settings, adapters);
