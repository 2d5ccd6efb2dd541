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
    const response = operation.responses[String(status)] as
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
  };
}
