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
stack runs the functions' own validation on the environment it gives them), and when the settings the
functions read (long lists, price overrides) would take a function's environment past Lambda's 4 KB,
naming the longest. **Locally**, \`npm start\`
reads the environment variable: \`MAX_OUTPUT_TOKENS=8192 npm start\`.

Settings marked *functions (set by the stack)* are not context keys: the stack sets them from the
resources it creates, and the local stack from its emulators.

**Changing a setting on a live stack** updates the deployed resources in place: no setting replaces
the table, the queues, the topics or their keys, the functions, or the function URL (its address
stays). \`test/infra/live-update.test.ts\` synthesizes each change and checks. A few do more:

- \`stackName\` names the stack: a new name deploys a second, empty stack (a new function URL, table,
  secrets and queues) beside the first, which keeps running with all the data. The new stack publishes
  its metrics under its own namespace (the stack name), so its alarms and dashboard start without the
  first one's history and count none of its traffic. Keep the name a deployment was first deployed
  with.
- \`authMode=oidc\` or \`jwtSecretArn\` takes the JWT secret the stack generated out of the stack (kept,
  or deleted with \`removalPolicy=destroy\`); back to \`hs256\` without \`jwtSecretArn\`, the stack
  generates a new one and every token signed with the old one is refused.
- \`anthropicApiKeySecretArn\` likewise takes the stack's own key secret out; unset again, the stack
  creates a new one holding the placeholder, and every model call fails until you put the key in it.
- \`signingKeySecretArn\` (set or unset): page cursors handed out before are refused; clients list again
  from the first page. A retry of an API key's creation made before answers 409 (the key was made,
  its secret can no longer be shown): revoke that key and create another.
- \`functionUrlAuthType\`: the URL stays, but from \`NONE\` to \`AWS_IAM\` every caller must sign with SigV4
  and send its JWT in \`x-user-authorization\`.
- \`alarmEmail\`: a new address is a new subscription, to confirm again; the old one is removed.

| setting | environment | read by | default | accepts | what it does |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationDoc());
  console.log('wrote docs/configuration.md');
}
