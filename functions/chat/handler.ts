import { loadSettings } from '../../shared/config/load-settings.js';
import { createChatHandler } from './app.js';
import { buildChatDependencies } from './build-dependencies.js';

/** Composition root: settings read once per cold start, real clients, the middleware chain. */
export const handler = createChatHandler(buildChatDependencies(loadSettings(process.env)));
