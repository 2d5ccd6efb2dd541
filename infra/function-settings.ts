import {
  envNameOf,
  type FunctionSettingKey,
  SETTINGS,
  type StackSettingValues,
  settingKeys,
} from '../shared/config/settings.js';

/**
 * The settings both functions read, from the stack's configuration: every setting
 * the table marks as read by both and set to other than its default, in its environment form. Resource names, queue
 * URLs and secret ARNs are added by the constructs that grant access to them.
 */
export function functionEnvironment(config: StackSettingValues): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of settingKeys('functions') as FunctionSettingKey[]) {
    const definition = SETTINGS[key];
    if (definition.readers !== 'both') continue;
    const value = config[key as keyof StackSettingValues];
    if (value === undefined) continue;
    const toEnv = definition.toEnv as (value: unknown) => string;
    const text = toEnv(value);
    // A default is left out: the function applies it itself, and the environment stays small.
    const isDefault =
      definition.defaultValue !== undefined && text === toEnv(definition.defaultValue);
    if (text !== '' && text !== '{}' && !isDefault) env[envNameOf(key)] = text;
  }
  return env;
}
