import { loadSettings } from '../../shared/config/load-settings.js';
import { composeWorker, createWorkerAdapters } from './compose.js';

/** Composition root: settings read once per cold start, real clients, the middleware chain. */
const settings = loadSettings(process.env, { verifiesTokens: false });
export const handler = composeWorker(settings, createWorkerAdapters(settings));
