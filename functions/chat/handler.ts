import { streamify } from '@aws-lambda-powertools/event-handler/http';
import { loadSettings } from '../../shared/config/load-settings.js';
import { guardProcess } from '../../shared/observability/process-guard.js';
import { composeChatApp, createChatAdapters } from './compose.js';

/** Composition root: settings read once per cold start, real clients, the app, streamed. */
const settings = loadSettings(process.env);
const adapters = createChatAdapters(settings);
guardProcess(adapters.logger, adapters.createMetrics());
export const handler = streamify(composeChatApp(settings, adapters));
