import { createHash } from 'node:crypto';
import { isExactNumber } from './exact-json.js';

/**
 * The response cache key of a request: a hex SHA-256 of everything that shapes the
 * answer — the request as sent (model, system, messages, tools, tool_choice, thinking,
 * sampling parameters, max_tokens, stop_sequences, and `stream`, so a streamed and a
 * JSON answer are stored apart), the betas and the API version — and of whose cache it
 * is (`scope`) and which wire API asked (`api`). Only the request's top-level `metadata`
 * is left out: it names the end user, it does not shape the answer.
 *
 * Key order never matters; array order does. Betas are a set: sorted, duplicates dropped.
 */
export function responseCacheKey(input: {
  scope: string;
  api: 'messages' | 'chat';
  request: unknown;
  betas: readonly string[];
  anthropicVersion?: string;
}): string {
  const material = canonicalJson({
    scope: input.scope,
    api: input.api,
    request: withoutMetadata(input.request),
    betas: [...new Set(input.betas)].sort(),
    anthropicVersion: input.anthropicVersion,
  });
  return createHash('sha256').update(material).digest('hex');
}

/**
 * JSON.stringify with the keys of every object sorted, so equal values always give the
 * same text. As JSON.stringify: `undefined` members are dropped, `undefined` array
 * entries become `null`, `toJSON` is honoured; a bare `undefined` gives `null`.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

function write(value: unknown): string | undefined {
  const json = hasToJson(value) ? value.toJSON() : value;
  if (isExactNumber(json)) return JSON.stringify(json);
  if (Array.isArray(json)) return `[${json.map((entry) => write(entry) ?? 'null').join(',')}]`;
  if (typeof json === 'object' && json !== null) {
    const members = Object.keys(json)
      .sort()
      .flatMap((name) => {
        const member = write((json as Record<string, unknown>)[name]);
        return member === undefined ? [] : [`${JSON.stringify(name)}:${member}`];
      });
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(json);
}

function hasToJson(value: unknown): value is { toJSON(): unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  );
}

function withoutMetadata(request: unknown): unknown {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return request;
  const { metadata: _metadata, ...shaping } = request as Record<string, unknown>;
  return shaping;
}
