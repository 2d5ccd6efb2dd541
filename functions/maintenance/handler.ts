import { loadSettings } from '../../shared/config/load-settings.js';
import { guardProcess } from '../../shared/observability/process-guard.js';
import { composeMaintenance, createMaintenanceAdapters } from './compose.js';

/** Composition root: settings read once per cold start, real clients, the middleware chain. */
const settings = loadSettings(process.env, { role: 'maintenance' });
const adapters = createMaintenanceAdapters(settings);
guardProcess(adapters.logger, adapters.metrics);
export const handler = composeMaintenance(settings, adapters);
