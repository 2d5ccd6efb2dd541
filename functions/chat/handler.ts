import { streamify } from '@aws-lambda-powertools/event-handler/http';
import { loadSettings } from '../../shared/config/load-settings.js';
import { guardProcess } from '../../shared/observability/process-guard.js';
import { composeChatApp, createChatAdapters } from './compose.js';

/**
 * Composition root: settings read once per cold start, real clients, the app, streamed.
 * The adapters load in the background (see createChatAdapters).
 */
const settings = loadSettings(process.env);
const adapters = createChatAdapters(settings);
guardProcess(adapters.logger, adapters.createMetrics());
export const handler = streamify(composeChatApp(settings, adapters));

/** Settles once everything a request may need has loaded (the benchmark measures it). */
export const loaded = adapters.loaded;

// A provisioned environment is frozen once its init ends, which would pause the loading (and
// the secrets' reads ahead) until its first request: do it all during init instead.
if (process.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'provisioned-concurrency') {
  await Promise.all([loaded, adapters.secretsReadAhead]);
}
