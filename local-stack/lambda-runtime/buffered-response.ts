/** An HTTP response as the function URL sends it. */
export interface HttpResponseParts {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/** Largest synchronous (buffered) response payload Lambda returns: 6 MB. */
export const MAX_BUFFERED_RESPONSE_BYTES = 6 * 1024 * 1024;

/**
 * Maps a buffered handler's return value to the HTTP response, by the payload format 2.0
 * rules (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-response-payload):
 * an object with `statusCode` is used as is; anything else becomes a 200 JSON body.
 */
export function toHttpResponse(result: unknown): HttpResponseParts {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    const response = result as {
      statusCode: number;
      headers?: Record<string, string | number | boolean>;
      cookies?: string[];
      body?: unknown;
      isBase64Encoded?: boolean;
    };
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers ?? {})) {
      headers[name.toLowerCase()] = String(value);
    }
    const body =
      response.body === undefined || response.body === null
        ? ''
        : typeof response.body === 'string'
          ? response.body
          : JSON.stringify(response.body);
    return {
      statusCode: Number(response.statusCode),
      headers,
      cookies: response.cookies ?? [],
      body: Buffer.from(body, response.isBase64Encoded ? 'base64' : 'utf8'),
    };
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(JSON.stringify(result ?? null)),
  };
}
