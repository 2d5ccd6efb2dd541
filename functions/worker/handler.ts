import { loadSettings } from '../../shared/config/load-settings.js';
import { createWorkerHandler } from './app.js';
import { buildWorkerDependencies } from './build-dependencies.js';

/** Composition root: settings read once per cold start, real clients, the middleware chain. */
export const handler = createWorkerHandler(
  buildWorkerDependencies(loadSettings(process.env, { verifiesTokens: false })),
);
