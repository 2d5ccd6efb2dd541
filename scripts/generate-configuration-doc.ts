/** Writes docs/configuration.md from the settings table, the one source of truth. */
import { writeFileSync } from 'node:fs';
import { envNameOf, SETTINGS, type SettingKey } from '../shared/config/settings.js';

const WHO = {
  both: 'stack + functions',
  stack: 'stack',
  functions: 'functions (set by the stack)',
} as const;

export function configurationDoc(): string {
  const rows = (Object.keys(SETTINGS) as SettingKey[]).map((key) => {
    const setting = SETTINGS[key];
    const name = setting.readers === 'functions' ? `\`${envNameOf(key)}\`` : `\`${key}\``;
    const env = setting.readers === 'stack' ? '–' : `\`${envNameOf(key)}\``;
    const value =
      setting.defaultValue === undefined
        ? '–'
        : `\`${(setting.toEnv as (value: unknown) => string)(setting.defaultValue) || '[]'}\``;
    return `| ${name} | ${env} | ${WHO[setting.readers]} | ${value} | ${setting.accepts} | ${setting.doc} |`;
  });
  return `# Configuration

Generated from [\`shared/config/settings.ts\`](../shared/config/settings.ts) by \`npm run docs\`; a test
fails when this page is out of date.

Every setting is defined once. **Deploying**, set the context key: \`-c maxOutputTokens=8192\`, or a
\`"maxOutputTokens": 8192\` entry under \`context\` in \`cdk.json\`. Synth fails, naming the key, on an
unknown key, on a value out of bounds, and on anything the functions would reject at cold start (the
stack runs the functions' own validation on the environment it gives them). **Locally**, \`npm start\`
reads the environment variable: \`MAX_OUTPUT_TOKENS=8192 npm start\`.

Settings marked *functions (set by the stack)* are not context keys: the stack sets them from the
resources it creates, and the local stack from its emulators.

| setting | environment | read by | default | accepts | what it does |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationDoc());
  console.log('wrote docs/configuration.md');
}
