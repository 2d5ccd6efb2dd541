import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/paths.js';
import { type Synthesized, synthesize } from './synth.js';

/** The runbook, as an operator paged at night reads it and copies its queries. */
const runbook = readFileSync(join(PROJECT_ROOT, 'docs/runbook.md'), 'utf8');

/** The alarm sections: every `## ` heading before the routine operations. */
const alarmSections = () => {
  const [alarmsPart = ''] = runbook.split('\n## Routine operations');
  return alarmsPart
    .split('\n## ')
    .slice(1)
    .map((section) => ({
      name: section.slice(0, section.indexOf('\n')).trim(),
      text: section,
    }));
};

/** The CloudWatch Logs Insights queries: fenced blocks that start with `fields` or `filter`. */
const logsInsightsQueries = () =>
  [...runbook.matchAll(/```\n([\s\S]*?)```/g)]
    .map((match) => match[1]!)
    .filter((block) => /^\s*(fields|filter)\b/.test(block));

/** Every message text the functions log (`logger.info('…'`, `.warn(`, `.error(`). */
function loggedMessages(): string[] {
  const messages: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) visit(path);
      else if (path.endsWith('.ts')) {
        const source = readFileSync(path, 'utf8');
        for (const match of source.matchAll(
          /logger\.(?:debug|info|warn|error)\(\s*(['"`])((?:(?!\1)[^\\]|\\.)*)\1/g,
        )) {
          messages.push(match[2]!.replace(/\\(.)/g, '$1'));
        }
      }
    }
  };
  for (const dir of ['functions', 'shared']) visit(join(PROJECT_ROOT, dir));
  return messages;
}

/** The message texts a query matches: `message = "…"`, `message in […]`, `message like /…/`. */
function messageFilters(query: string): { exact: string[]; patterns: RegExp[] } {
  // `message` alone: `error.message` is the error's own, `@message` the raw line.
  const exact = [...query.matchAll(/(?<![.\w@])message\s*=\s*"([^"]+)"/g)].map((m) => m[1]!);
  for (const list of query.matchAll(/(?<![.\w@])message\s+in\s*\[([^\]]+)\]/g)) {
    exact.push(...[...list[1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!));
  }
  const patterns = [...query.matchAll(/(?<![.\w@])message\s+like\s+\/([^/]+)\//g)].map(
    (m) => new RegExp(m[1]!),
  );
  return { exact, patterns };
}

/** A text the Markdown wrapped over lines, as one line. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ');

let s: Synthesized;
let alarmIds: string[];
let dashboardText: string;

beforeAll(() => {
  s = synthesize();
  alarmIds = Object.entries(s.json.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
    .map(([id]) => id.replace(/^Observability/, '').replace(/[0-9A-F]{8}$/, ''));
  const dashboard = Object.values(s.json.Resources).find(
    (resource) => resource.Type === 'AWS::CloudWatch::Dashboard',
  );
  dashboardText = JSON.stringify(dashboard?.Properties?.DashboardBody);
});

describe('the runbook', () => {
  it('has one section per alarm the stack deploys, in the order of alarm-definitions.ts', () => {
    expect(alarmSections().map((section) => section.name)).toEqual(alarmIds);
  });

  it('names only dashboard widgets (or their series) that the dashboard has', () => {
    const named = alarmSections().flatMap(({ text }) => {
      const lookFirst = /\*\*Look first\*\*([\s\S]*?)(?:\n- \*\*|$)/.exec(text)?.[1] ?? '';
      return [...lookFirst.matchAll(/\*\*([^*]+)\*\*/g)].map((m) => oneLine(m[1]!));
    });
    expect(named.length).toBeGreaterThan(10);
    const missing = named.filter(
      (title) =>
        !dashboardText.includes(`\\"title\\":\\"${title}\\"`) &&
        !dashboardText.includes(`\\"label\\":\\"${title}\\"`),
    );
    expect(missing).toEqual([]);
  });

  it('filters its Logs Insights queries only on messages the functions log, worded as they log them', () => {
    const logged = loggedMessages();
    expect(logged).toContain('request failed');
    const queries = logsInsightsQueries();
    expect(queries.length).toBeGreaterThan(5);
    const unmatched: string[] = [];
    for (const query of queries) {
      const { exact, patterns } = messageFilters(query);
      unmatched.push(...exact.filter((message) => !logged.includes(message)));
      unmatched.push(
        ...patterns
          .filter((pattern) => !logged.some((message) => pattern.test(message)))
          .map(String),
      );
    }
    expect(unmatched).toEqual([]);
  });

  it('quotes only log messages the functions write, in its prose too', () => {
    // Backticked texts in "logged `…`" and "the line(s) `…`" are log messages.
    const quoted = [
      ...runbook.matchAll(/(?:logged|the lines?|WARN lines with `[^`]+`:) `([^`]+)`/g),
    ].map((m) => oneLine(m[1]!));
    expect(quoted.length).toBeGreaterThan(3);
    const logged = loggedMessages();
    expect(quoted.filter((message) => !logged.includes(message))).toEqual([]);
  });
});
