import { describeIssues } from '../shared/config/setting-types.js';
import { SETTINGS } from '../shared/config/settings.js';

/**
 * The browser origins npm start answers CORS for: `CORS_ALLOWED_ORIGINS`, read as synth reads
 * corsAllowedOrigins (comma-separated or a JSON array; each a scheme and a host, or `*`), so
 * an origin that would never match a browser's fails here as it fails there.
 * @throws Error naming the variable on a value synth refuses as well
 */
export function localCorsOrigins(env: Record<string, string | undefined> = process.env): string[] {
  const value = env.CORS_ALLOWED_ORIGINS;
  const result = SETTINGS.corsAllowedOrigins.schema.safeParse(value);
  if (result.success) return result.data;
  throw new Error(
    `CORS_ALLOWED_ORIGINS: ${describeIssues(result.error.issues)} (got ${JSON.stringify(value)})`,
  );
}
