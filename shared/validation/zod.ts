/**
 * The functions validate with zod/mini: the same schemas as zod, tree-shakable, so the
 * bundles carry only what they use (full zod alone is ~440 KB minified). Import it as
 * `import * as z from '…/validation/zod.js'`: this module configures its messages.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// zod/mini ships without messages; ours are English.
config(en());

export * from 'zod/mini';
