import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface Lock {
  packages: Record<string, { version?: string; dev?: boolean }>;
}

const lock = JSON.parse(
  readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8'),
) as Lock;
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Installed versions of the packages whose name starts with `scope/`, anywhere in the tree. */
function installed(scope: string, names?: readonly string[]): Map<string, Set<string>> {
  const versions = new Map<string, Set<string>>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!path.includes('node_modules/') || !name.startsWith(`${scope}/`) || !entry.version)
      continue;
    if (names && !names.includes(name)) continue;
    versions.set(name, (versions.get(name) ?? new Set()).add(entry.version));
  }
  return versions;
}

describe('the toolchain', () => {
  it('runs the tests on Node 24, the Lambda runtime the stack deploys', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
    expect(pkg.devDependencies.node).toMatch(/^24\./);
  });

  it('installs every Powertools package at one version, so there is one copy of commons', () => {
    const versions = installed('@aws-lambda-powertools');
    expect(new Set([...versions.values()].flatMap((v) => [...v]))).toHaveLength(1);
    expect(versions.get('@aws-lambda-powertools/commons')).toHaveLength(1);
  });

  it('pins every AWS SDK client we depend on at one version, with one copy of the SDK core', () => {
    const ours = Object.keys(pkg.dependencies).filter((name) => name.startsWith('@aws-sdk/'));
    // The clients and lib-dynamodb are released together; util-* packages number their own
    // versions, and one installed copy means ours is the one the clients use.
    const released = ours.filter((name) => !name.startsWith('@aws-sdk/util-'));
    const versions = new Set(released.map((name) => pkg.dependencies[name]));
    expect(versions).toHaveLength(1);
    for (const name of ours) expect(installed('@aws-sdk', [name]).get(name)).toHaveLength(1);
    expect(installed('@aws-sdk', ['@aws-sdk/core']).get('@aws-sdk/core')).toHaveLength(1);
  });
});
