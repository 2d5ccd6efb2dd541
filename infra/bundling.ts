import { fileURLToPath } from 'node:url';
import { type BuildOptions, buildSync, type Metafile } from 'esbuild';

// Some CommonJS dependencies call `require` (e.g. for Node built-ins), which an ES module
// does not define. esbuild prepends the banner to every output file, chunks included.
const REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/**
 * The X-Ray SDK's trace context on AsyncLocalStorage instead of cls-hooked's async hooks,
 * which doubled the chat function's CPU per turn with tracing on (see the module).
 */
export const TRACE_CONTEXT_ALIAS = {
  'cls-hooked/context': fileURLToPath(
    new URL('../shared/adapters/tracing/async-local-namespace.ts', import.meta.url),
  ),
};

/**
 * How every function is bundled, by the stack and by the benchmark alike: one ES module
 * entry (`index.mjs`, exporting `handler`) plus the chunks its dynamic `import()`s load
 * (`chunks/*.mjs`, shared code split out once), minified, with source maps.
 *
 * The AWS SDK is bundled, not left to the runtime: the function then runs the SDK version
 * it was tested with (the runtime's own copy is a version Lambda picks and updates), and a
 * bundled, tree-shaken client loads faster than the runtime's hundreds of files (measured by
 * `npm run bench`; also the AWS SDK team's advice, aws/aws-cdk#25492).
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  splitting: true,
  entryNames: 'index',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  // ESM builds of dependencies where they have one: they tree-shake better.
  mainFields: ['module', 'main'],
  minify: true,
  treeShaking: true,
  sourcemap: true,
  sourcesContent: false,
  banner: { js: REQUIRE_BANNER },
  alias: TRACE_CONTEXT_ALIAS,
  logLevel: 'warning',
} as const satisfies BuildOptions;

/**
 * Node options of a function with `sourceMaps` on: stack traces point into the TypeScript
 * sources. Off by default: Node then reads every map as it loads a module, which added
 * ~6 ms (~8%) to the chat function's cold import (npm run bench).
 */
export const SOURCE_MAPS_NODE_OPTIONS = '--enable-source-maps';

export interface FunctionBundle {
  /** What went into each output file: `npm run bench` reports it. */
  metafile: Metafile;
}

/** Bundles a handler's entry file into `outdir` (index.mjs, chunks/, source maps). */
export function bundleFunction(entry: string, outdir: string): FunctionBundle {
  const { metafile } = buildSync({
    ...BUNDLE_OPTIONS,
    entryPoints: { index: entry },
    outdir,
    metafile: true,
  });
  return { metafile: metafile! };
}
