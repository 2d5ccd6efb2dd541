import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { assertPortFree } from '../ports.js';
import { ensureDynamoDbLocal } from './install.js';

export interface DynamoDbLocalOptions {
  port: number;
  /** Keep the data in this directory across restarts. @default in memory (`-inMemory`) */
  dbPath?: string;
  /** Where `DynamoDBLocal.jar` is. @default `.local/dynamodb-local/`, installed on first use */
  jarDir?: string;
  /** How long to wait for the first answer. @default 60000 */
  startTimeoutMs?: number;
  /**
   * `memory`: the JVM's quick compiler only (C1): ~210 MB and a faster start, for tests.
   * `throughput`: the JVM's default tiered compilation, whose optimizing compiler (C2) halves
   * DynamoDB Local's CPU per request once warm (~2.6 against ~4.6 ms for three updates at
   * once on this machine), for the benchmark. @default 'memory'
   */
  optimizeFor?: 'memory' | 'throughput';
}

export interface DynamoDbLocal {
  /** `http://127.0.0.1:PORT`, for `new DynamoDBClient({ endpoint })`. */
  endpoint: string;
  /** The JVM's process id (the bench reads its CPU time). */
  pid: number | undefined;
  /** Stops the JVM and waits for it to exit. */
  stop(): Promise<void>;
}

/** Java is missing, so DynamoDB Local cannot run. */
export class JavaNotFoundError extends Error {
  override readonly name = 'JavaNotFoundError';
}

/** DynamoDB Local exited or did not answer while starting. */
export class DynamoDbLocalStartError extends Error {
  override readonly name = 'DynamoDbLocalStartError';
}

/**
 * Starts the official DynamoDB Local (a JVM) on `port` and resolves once it answers
 * ListTables. Always `-sharedDb`: without it each access key and region sees its own database.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  await assertJava();
  await assertPortFree(options.port, 'DynamoDB Local');
  const { jarDir } = await ensureDynamoDbLocal(options.jarDir ? { jarDir: options.jarDir } : {});
  const storage = options.dbPath ? ['-dbPath', resolve(options.dbPath)] : ['-inMemory'];
  if (options.dbPath) await mkdir(options.dbPath, { recursive: true });
  // Its own working directory: DynamoDB Local writes dynamodb-local-metadata.json there.
  const cwd = await mkdtemp(join(tmpdir(), 'dynamodb-local-run-'));
  const child = spawn(
    'java',
    [
      // Serial GC and a small heap (and C1 only, for memory): ~210 MB instead of ~500 MB.
      '-XX:+UseSerialGC',
      ...(options.optimizeFor === 'throughput' ? [] : ['-XX:TieredStopAtLevel=1']),
      '-Xmx256m',
      `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(jarDir, 'DynamoDBLocal.jar'),
      '-port',
      String(options.port),
      '-sharedDb',
      '-disableTelemetry',
      ...storage,
    ],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = captureOutput(child);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((done) => child.once('close', () => done()));

  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(forced);
    }
    await rm(cwd, { recursive: true, force: true });
  };

  const endpoint = `http://127.0.0.1:${options.port}`;
  try {
    await waitUntilAnswering(endpoint, child, output, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, pid: child.pid, stop };
}

async function assertJava(): Promise<void> {
  const result = await new Promise<number | Error>((done) => {
    const java = spawn('java', ['-version'], { stdio: 'ignore' });
    java.once('error', done);
    java.once('exit', (code) => done(code ?? -1));
  });
  if (result === 0) return;
  throw new JavaNotFoundError(
    'DynamoDB Local needs a Java runtime (17 or newer) and `java -version` failed. ' +
      'On Debian/Ubuntu install it with: sudo apt-get update && sudo apt-get install -y openjdk-17-jre-headless ' +
      '(macOS: brew install openjdk@17). Then make sure `java` is on your PATH.',
    { cause: result },
  );
}

function captureOutput(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail.trim();
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new DynamoDbLocalStartError(
          `DynamoDB Local exited while starting (code ${child.exitCode ?? child.signalCode}):\n${output()}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        await sleep(150);
      }
    }
    throw new DynamoDbLocalStartError(
      `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms:\n${output()}`,
    );
  } finally {
    client.destroy();
  }
}
