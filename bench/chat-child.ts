import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { TRACE_CONTEXT_ALIAS } from '../infra/bundling.js';
import type { ChatProcessInit, ChatProcessSnapshot } from './chat-process.js';
import { DEPLOYED_CHAT_MEMORY_MB, lambdaHeapFlags } from './lambda-heap.js';

/** The chat function in its own process (chat-process.ts), seen from the bench. */
export interface ChatChild {
  pid: number;
  /** Function URLs: the full stack, and the stack without budget/rate checks when asked for. */
  urls: { full: string; unguarded?: string };
  snapshot(): Promise<ChatProcessSnapshot>;
  /** Runs a full garbage collection in the child (it runs with --expose-gc). */
  gc(): Promise<void>;
  /** Whether the child asks DynamoDB for each call's capacity (on at start). */
  measureCapacity(on: boolean): Promise<void>;
  /** Resident set size now, read from /proc without disturbing the child. */
  rssBytes(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Bundles chat-process.ts as the stack bundles a handler (ESM, minified, AWS SDK external)
 * and starts it with this Node: the measured process then holds what a Lambda execution
 * environment holds, without tsx's on-the-fly compilation.
 */
export async function startChatChild(
  options: Omit<ChatProcessInit, 'type'> & {
    outDir: string;
    /** Lambda's environment variables: the X-Ray SDK reads them as it loads. */
    lambdaEnvironment: Record<string, string>;
  },
): Promise<ChatChild> {
  const outfile = resolve(options.outDir, 'chat-process.mjs');
  await build({
    entryPoints: [resolve('bench/chat-process.ts')],
    outfile,
    bundle: true,
    minify: !process.env.BENCH_CHAT_NODE_ARGS,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    // fauxqs is only imported by the SQS emulator, which the child never starts.
    external: ['@aws-sdk/*', 'fauxqs'],
    alias: TRACE_CONTEXT_ALIAS,
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'silent',
  });
  // Profiling flags (see config.ts); a profile is read against the unminified bundle.
  const nodeArgs = process.env.BENCH_CHAT_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const heap = lambdaHeapFlags(DEPLOYED_CHAT_MEMORY_MB);
  const child = spawn(process.execPath, ['--expose-gc', ...heap, ...nodeArgs, outfile], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...options.lambdaEnvironment },
  });
  const pending = new Map<number, (message: unknown) => void>();
  let nextId = 1;
  let ready: (urls: ChatChild['urls']) => void;
  const started = new Promise<ChatChild['urls']>((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code) => reject(new Error(`the chat process exited (${code})`)));
  });
  child.on('message', (message: { type: string; id?: number; urls?: ChatChild['urls'] }) => {
    if (message.type === 'ready' && message.urls) ready(message.urls);
    else if (message.id !== undefined) {
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    }
  });
  const ask = <T>(type: string, fields: Record<string, unknown> = {}) =>
    new Promise<T>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve as (message: unknown) => void);
      child.send({ type, id, ...fields });
    });
  const { outDir: _, lambdaEnvironment: __, ...init } = options;
  child.send({ type: 'init', ...init } satisfies ChatProcessInit);
  const urls = await started;
  return {
    pid: child.pid as number,
    urls,
    snapshot: () => ask<ChatProcessSnapshot>('snapshot'),
    gc: async () => {
      await ask('gc');
    },
    measureCapacity: async (on) => {
      await ask('capacity', { on });
    },
    rssBytes: () => rssOf(child),
    stop: () => stopChild(child),
  };
}

async function rssOf(child: ChildProcess): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kib ? Number(kib) * 1024 : Number.NaN;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send({ type: 'stop' });
  });
}
