import { fileURLToPath } from 'node:url';

/** The repository root: the functions' code assets are bundled from it. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The functions' entry files, by path only: infra never imports functions/ code,
 * it hands the files to esbuild.
 */
export const FUNCTION_ENTRY = {
  chat: fileURLToPath(new URL('../functions/chat/handler.ts', import.meta.url)),
  worker: fileURLToPath(new URL('../functions/worker/handler.ts', import.meta.url)),
  maintenance: fileURLToPath(new URL('../functions/maintenance/handler.ts', import.meta.url)),
} as const;
