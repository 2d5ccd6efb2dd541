import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The official DynamoDB Local (1.25.1) ships inside this npm package under `package/emulator/`.
 * Only the tarball is fetched (`npm pack`); the package itself is never installed.
 */
export const DYNAMODB_LOCAL_PACKAGE = 'amplify-dynamodb-simulator@2.9.30';

/** Subresource-integrity hash of the tarball above, as the registry publishes it. */
export const DYNAMODB_LOCAL_PACKAGE_INTEGRITY =
  'sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ==';

/** Where the jar is kept: `.local/` at the repository root (git-ignored). */
export const DYNAMODB_LOCAL_DIR = fileURLToPath(
  new URL('../../.local/dynamodb-local/', import.meta.url),
);

/** Installing DynamoDB Local failed: `npm pack`, the checksum, or the extraction. */
export class DynamoDbLocalInstallError extends Error {
  override readonly name = 'DynamoDbLocalInstallError';
}

/**
 * Makes sure DynamoDB Local is unpacked in `.local/dynamodb-local/` (`DynamoDBLocal.jar`
 * and `DynamoDBLocal_lib/`). Does nothing when it is already there; otherwise downloads
 * the pinned tarball with `npm pack`, verifies its sha512 and extracts only the emulator.
 */
export async function ensureDynamoDbLocal(
  options: { jarDir?: string; log?: (line: string) => void } = {},
): Promise<{ jarDir: string }> {
  const jarDir = options.jarDir ?? DYNAMODB_LOCAL_DIR;
  if (isInstalled(jarDir)) return { jarDir };
  const log = options.log ?? (() => {});

  const workDir = await mkdtemp(join(tmpdir(), 'dynamodb-local-'));
  try {
    log(`Downloading ${DYNAMODB_LOCAL_PACKAGE} (~57 MB) with npm pack...`);
    const tarball = await npmPack(workDir);
    await verifyIntegrity(tarball);
    // Extract next to the target and rename, so an interrupted run never looks installed.
    await mkdir(join(jarDir, '..'), { recursive: true });
    const staging = await mkdtemp(`${jarDir.replace(/\/$/, '')}.partial-`);
    try {
      await extractEmulator(tarball, staging);
      await rm(jarDir, { recursive: true, force: true });
      await rename(staging, jarDir);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    if (!isInstalled(jarDir)) {
      throw new DynamoDbLocalInstallError(
        `${DYNAMODB_LOCAL_PACKAGE} did not contain package/emulator/DynamoDBLocal.jar`,
      );
    }
    log(`DynamoDB Local installed in ${jarDir}`);
    return { jarDir };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

function isInstalled(jarDir: string): boolean {
  return (
    existsSync(join(jarDir, 'DynamoDBLocal.jar')) && existsSync(join(jarDir, 'DynamoDBLocal_lib'))
  );
}

async function npmPack(workDir: string): Promise<string> {
  try {
    const { stdout } = await run('npm', ['pack', DYNAMODB_LOCAL_PACKAGE, '--json'], {
      cwd: workDir,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    if (!packed) throw new Error('npm pack printed no file name');
    return join(workDir, packed.filename);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    const npmErrors = stderr
      .split('\n')
      .filter((line) => line.startsWith('npm error') && !line.includes('complete log'))
      .join('; ');
    throw new DynamoDbLocalInstallError(
      `\`npm pack ${DYNAMODB_LOCAL_PACKAGE}\` failed${npmErrors ? ` (${npmErrors})` : ''}. ` +
        'It needs access to the npm registry (check your network, proxy or .npmrc).',
      { cause: error },
    );
  }
}

async function verifyIntegrity(tarball: string): Promise<void> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(tarball)) hash.update(chunk as Buffer);
  const actual = `sha512-${hash.digest('base64')}`;
  if (actual !== DYNAMODB_LOCAL_PACKAGE_INTEGRITY) {
    throw new DynamoDbLocalInstallError(
      `Checksum mismatch for ${DYNAMODB_LOCAL_PACKAGE}: expected ${DYNAMODB_LOCAL_PACKAGE_INTEGRITY}, got ${actual}. ` +
        'The download was altered or the registry served different content; nothing was installed.',
    );
  }
}

async function extractEmulator(tarball: string, targetDir: string): Promise<void> {
  try {
    // GNU tar and bsdtar both accept a member path and --strip-components.
    await run('tar', [
      '-xzf',
      tarball,
      '-C',
      targetDir,
      '--strip-components=2',
      'package/emulator',
    ]);
  } catch (error) {
    throw new DynamoDbLocalInstallError(`Could not extract package/emulator from ${tarball}`, {
      cause: error,
    });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureDynamoDbLocal({ log: (line) => console.log(line) })
    .then(({ jarDir }) => console.log(`DynamoDB Local is ready in ${jarDir}`))
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    });
}
