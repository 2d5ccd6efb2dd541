import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { OpenApiDocument } from '../../functions/chat/openapi/document.js';

const BASE = 'https://openapi.test/document.json';

/**
 * Checks real responses against what an OpenAPI document says of them: each method
 * returns the validation errors (none: `[]`), so a test's failure names the mismatch.
 */
export function openApiValidator(document: OpenApiDocument) {
  // strict: false, as the components carry OpenAPI keywords (discriminator) Ajv does not know.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: BASE, components: document.components });

  const check = (ref: string, value: unknown): string[] => {
    const validate = ajv.getSchema(`${BASE}${ref}`);
    if (!validate) throw new Error(`the document has no schema ${ref}`);
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (error) => `${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`,
    );
  };

  const responseOf = (method: string, path: string, status: number) => {
    const operation = document.paths[path]?.[method.toLowerCase()];
    if (!operation) throw new Error(`the document has no ${method} ${path}`);
    // A status without its own entry falls in its range's (`4XX`), as OpenAPI reads them.
    const response = (operation.responses[String(status)] ??
      operation.responses[`${String(status)[0]}XX`]) as
      | { $ref?: string; content?: Record<string, { schema: Record<string, unknown> }> }
      | undefined;
    if (!response) throw new Error(`${method} ${path} documents no ${status}`);
    return response;
  };

  return {
    /** The JSON `body` of `method path` (as the document writes it: `/v1/jobs/{id}`) with `status`. */
    response(method: string, path: string, status: number, body: unknown): string[] {
      const response = responseOf(method, path, status);
      if (response.$ref) return check('#/components/schemas/Error', body);
      const ref = response.content?.['application/json']?.schema.$ref;
      if (typeof ref !== 'string')
        throw new Error(`${method} ${path} ${status} has no JSON schema`);
      return check(ref, body);
    },
    /** The `data:` JSON of one event of the stream `method path` answers (by its `type`). */
    event(method: string, path: string, data: Record<string, unknown>): string[] {
      const schema = responseOf(method, path, 200).content?.['text/event-stream']?.schema as
        | { discriminator: { mapping: Record<string, string> } }
        | undefined;
      if (!schema) throw new Error(`${method} ${path} documents no event stream`);
      const ref = schema.discriminator.mapping[String(data.type)];
      if (!ref) return [`event type ${JSON.stringify(data.type)} is not documented`];
      return check(ref, data);
    },
    /** An error response's body. */
    error(body: unknown): string[] {
      return check('#/components/schemas/Error', body);
    },
    /**
     * A whole real answer of `method path`: its status is documented, its media type is one
     * the status lists, the headers it documents hold their schema's values (`x-request-id`
     * on every one), and its body (JSON, or each event of a stream) matches the schema.
     * Reads the body.
     */
    async answer(method: string, path: string, answer: Response): Promise<string[]> {
      const operation = document.paths[path]?.[method.toLowerCase()];
      if (!operation) throw new Error(`the document has no ${method} ${path}`);
      const documented = (operation.responses[String(answer.status)] ??
        operation.responses[`${String(answer.status)[0]}XX`]) as DocumentedResponse;
      const body = await answer.text();
      if (!documented) return [`${answer.status} is not documented (${body.slice(0, 200)})`];
      const response = resolve(documented);
      const problems: string[] = [];
      if (!answer.headers.get('x-request-id')) problems.push('no x-request-id header');
      for (const [name, header] of Object.entries(response.headers ?? {})) {
        const value = answer.headers.get(name);
        const { schema, required } = resolve(header) as { schema?: object; required?: boolean };
        if (value === null) {
          if (required) problems.push(`no ${name} header`);
          continue;
        }
        const typed = (schema as { type?: string })?.type === 'integer' ? Number(value) : value;
        if (schema && !ajv.validate(schema, typed))
          problems.push(`${name}: ${value} ${ajv.errorsText()}`);
      }
      for (const name of PROMISED_HEADERS) {
        if (answer.headers.has(name) && !(name in (response.headers ?? {}))) {
          problems.push(`${name} header not documented for ${answer.status}`);
        }
      }
      const mediaType = answer.headers.get('content-type')?.split(';')[0]?.trim();
      const content = response.content ?? {};
      if (Object.keys(content).length === 0) {
        if (body !== '') problems.push(`a body where none is documented: ${body.slice(0, 200)}`);
        return problems;
      }
      const schema = mediaType ? content[mediaType]?.schema : undefined;
      if (!schema) {
        return [...problems, `content-type ${mediaType} is not one of ${Object.keys(content)}`];
      }
      if (mediaType === 'application/json') {
        return [...problems, ...checkSchema(schema, JSON.parse(body))];
      }
      if (mediaType === 'text/event-stream') {
        const { discriminator, description = '' } = schema as {
          discriminator: { mapping: Record<string, string> };
          description?: string;
        };
        // The framing as the document's words tell it, which a hand-written reader follows.
        const named = description.includes('`event: <name>` line');
        for (const { event, data } of sseFrames(body)) {
          if (named && event === undefined)
            problems.push('events lack the `event:` line documented');
          if (!named && event !== undefined)
            problems.push('events have `event:` lines undocumented');
          if (data === '[DONE]') {
            if (!description.includes('[DONE]')) problems.push('`data: [DONE]` is not documented');
            continue;
          }
          const parsed = JSON.parse(data) as { type?: unknown };
          if (event !== undefined && event !== parsed.type) {
            problems.push(`event ${event} carries type ${JSON.stringify(parsed.type)}`);
          }
          const ref = discriminator.mapping[String(parsed.type)];
          if (!ref) problems.push(`event type ${JSON.stringify(parsed.type)} is not documented`);
          else problems.push(...check(ref, parsed).map((error) => `${parsed.type}: ${error}`));
        }
      }
      return [...new Set(problems)];
    },
  };

  function resolve<T>(value: T | { $ref: string }): T {
    const ref = (value as { $ref?: string }).$ref;
    if (!ref) return value as T;
    const [, section, name] = /^#\/components\/(\w+)\/(.+)$/.exec(ref) ?? [];
    return resolve((document.components[section!] as Record<string, T>)[name!]!);
  }

  function checkSchema(schema: Record<string, unknown>, value: unknown): string[] {
    if (typeof schema.$ref === 'string') return check(schema.$ref, value);
    if (ajv.validate(schema, value)) return [];
    return [ajv.errorsText()];
  }
}

/** Headers a client acts on: one an answer carries, its status's documentation names. */
const PROMISED_HEADERS = [
  'retry-after',
  'x-should-retry',
  'www-authenticate',
  'x-cache',
  'x-upstream-request-id',
  'x-vercel-ai-ui-message-stream',
  'anthropic-ratelimit-requests-limit',
];

type DocumentedResponse =
  | {
      headers?: Record<string, unknown>;
      content?: Record<string, { schema: Record<string, unknown> }>;
    }
  | undefined;

/** Each frame of an SSE body: its `event:` name, if any, and its `data:`; comments skipped. */
function sseFrames(body: string): Array<{ event?: string; data: string }> {
  return body
    .split('\n\n')
    .map((frame) => frame.split('\n').filter((line) => line !== '' && !line.startsWith(':')))
    .filter((lines) => lines.length > 0)
    .map((lines) => {
      const event = lines.find((line) => line.startsWith('event: '))?.slice(7);
      const data = lines.find((line) => line.startsWith('data: '))?.slice(6) ?? '';
      return { ...(event !== undefined && { event }), data };
    });
}
