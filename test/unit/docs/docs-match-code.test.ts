import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../infra/paths.js';
import { ADMIN_USAGE } from '../../../local-stack/admin-commands.js';
import { envNameOf, SETTINGS } from '../../../shared/config/settings.js';

/** The pages people deploy and operate this by, following their commands to the letter. */
const PAGES = [
  'README.md',
  'docs/runbook.md',
  'docs/scaling.md',
  'docs/data-model.md',
  'docs/failure-modes.md',
  'docs/configuration.md',
  'functions/chat/README.md',
  'local-stack/README.md',
  'infra/README.md',
];
const read = (page: string) => readFileSync(join(PROJECT_ROOT, page), 'utf8');
/** Every page, each line break (Markdown wraps commands too) a space. */
const allPages = PAGES.map((page) => read(page).replace(/\s+/g, ' ')).join('\n');

const scripts = Object.keys(
  (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts,
);

/** What `npm run admin -- help` lists: each command's first word. */
const adminCommands = [...ADMIN_USAGE.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!);

describe('the commands README and docs/ give', () => {
  it('run only npm scripts that package.json has', () => {
    const named = new Set(
      [...allPages.matchAll(/\bnpm (?:run (?:--silent )?([a-z][a-z:-]*)|(start|test)\b)/g)].map(
        (m) => m[1] ?? m[2]!,
      ),
    );
    expect(named.size).toBeGreaterThan(10);
    expect([...named].filter((script) => !scripts.includes(script))).toEqual([]);
  });

  it('run only admin commands the CLI has', () => {
    const used = [...allPages.matchAll(/npm run (?:--silent )?admin -- ([a-z][a-z-]*)/g)].map(
      (m) => m[1]!,
    );
    expect(used.length).toBeGreaterThan(5);
    expect(
      used.filter((command) => command !== 'help' && !adminCommands.includes(command)),
    ).toEqual([]);
  });

  it("list in the runbook every admin command the CLI's help lists, and no other", () => {
    const list = /\*\*The admin CLI\*\* `npm run admin -- <command>` \(([^;]+);/.exec(
      read('docs/runbook.md').replace(/\s+/g, ' '),
    )?.[1];
    expect(list).toBeDefined();
    const listed = [...(list ?? '').matchAll(/`([a-z-]+)`/g)].map((m) => m[1]!);
    expect(listed.toSorted()).toEqual(adminCommands.toSorted());
  });

  it('set only settings there are with -c', () => {
    // `-c key=value` is the syntax itself, not a setting.
    const keys = [...allPages.matchAll(/-c ([A-Za-z]+)=/g)]
      .map((m) => m[1]!)
      .filter((key) => key !== 'key');
    expect(keys.length).toBeGreaterThan(20);
    expect(keys.filter((key) => !Object.hasOwn(SETTINGS, key))).toEqual([]);
  });

  it('start the local stack with only the environment variables of settings', () => {
    const names = [...allPages.matchAll(/\b([A-Z][A-Z0-9_]*)=\S* npm start/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(2);
    const settingNames = Object.keys(SETTINGS).map(envNameOf);
    expect(names.filter((name) => !settingNames.includes(name))).toEqual([]);
  });
});

describe('the tests README and docs/ name', () => {
  it('exist: each failure mode names the test file that covers it', () => {
    // failure-modes.md names them under test/, without `.test.ts`: `integration/http-conventions`.
    const named = [
      ...read('docs/failure-modes.md').matchAll(
        /`((?:unit|integration|local-stack|browser|infra)\/[\w./-]+)`/g,
      ),
    ].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(50);
    expect(
      named.filter((name) => !existsSync(join(PROJECT_ROOT, 'test', `${name}.test.ts`))),
    ).toEqual([]);
  });

  it('exist, where a page names a test file by its path', () => {
    const paths = [...allPages.matchAll(/\btest\/[\w./-]+\.test\.ts\b/g)].map((m) => m[0]);
    expect(paths.length).toBeGreaterThan(3);
    expect(paths.filter((path) => !existsSync(join(PROJECT_ROOT, path)))).toEqual([]);
  });
});

describe('the settings README and docs/ name', () => {
  it('have the defaults they are said to have: `setting` (default N)', () => {
    const stated = [...allPages.matchAll(/`([a-z]\w*)`,? \(?default:? (\d[\d,.]*)/g)]
      // A derived default (dailyCostAlarmUsd, jobsQueueAgeAlarmSeconds) is worked out in prose.
      .filter(
        (m) =>
          Object.hasOwn(SETTINGS, m[1]!) &&
          typeof SETTINGS[m[1] as keyof typeof SETTINGS].defaultValue === 'number',
      )
      .map((m) => ({
        setting: m[1]!,
        default: Number(m[2]!.replace(/,/g, '').replace(/\.$/, '')),
      }));
    expect(stated.length).toBeGreaterThan(5);
    const actual = stated.map(({ setting }) => ({
      setting,
      default: SETTINGS[setting as keyof typeof SETTINGS].defaultValue,
    }));
    expect(stated).toEqual(actual);
  });
});

describe("README's useChat code", () => {
  it('is the code the browser tests run in a React app (test/browser/support/use-chat-app)', () => {
    const app = read('test/browser/support/use-chat-app/main.tsx');
    const code = [...read('README.md').matchAll(/```tsx?\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .filter((block) => block.includes('useChat'))
      .join('\n')
      // The app is given the function URL; README writes where it is.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the app's template literal, as text
      .replaceAll('`https://<id>.lambda-url.<region>.on.aws', '`${functionUrl}');
    const pieces = [
      ...code.matchAll(/^(?:async )?function [a-z]\w*[\s\S]*?^\}$/gm),
      ...code.matchAll(/^ *prepareSendMessagesRequest:[\s\S]*?^ *\}\),$/gm),
    ].map((m) => m[0]);
    // Indented as each file nests it.
    const unindented = (text: string) => text.replace(/^ +/gm, '');
    expect(pieces).toHaveLength(6);
    expect(pieces.filter((piece) => !unindented(app).includes(unindented(piece)))).toEqual([]);
  });

  it("has the app's chat component as README sketches it: each of its lines but what it reads of useChat", () => {
    const app = read('test/browser/support/use-chat-app/main.tsx');
    const sketch = read('README.md').match(/^function Chat\b[\s\S]*?^\}$/m)?.[0] ?? '';
    const code = (text: string) =>
      text
        .split('\n')
        .map((line) => line.replace(/\/\/.*$/, '').trim())
        .filter((line) => line.length > 0 && !line.startsWith('const {'));
    const appLines = new Set(code(app));

    expect(code(sketch).length).toBeGreaterThan(10);
    expect(code(sketch).filter((line) => !appLines.has(line))).toEqual([]);
  });
});

describe('the routes README and docs/ name', () => {
  it('are routes of the API document, with that method', () => {
    const document = JSON.parse(read('docs/openapi.json')) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const anyId = (path: string) => path.replace(/\{[^}]+\}/g, '{}');
    const routes = new Set(
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${anyId(path)}`),
      ),
    );
    const named = [...allPages.matchAll(/\b(GET|POST|PUT|PATCH|DELETE) (\/[\w{}/.…-]*)/g)].map(
      (m) => `${m[1]} ${anyId(m[2]!.replace(/[.…]+$/, '').replace(/(.)\/$/, '$1'))}`,
    );
    expect(named.length).toBeGreaterThan(50);
    expect(named.filter((route) => !routes.has(route))).toEqual([]);
  });
});
