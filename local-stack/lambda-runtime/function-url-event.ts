import { randomBytes } from 'node:crypto';
import type { LambdaFunctionURLEvent } from 'aws-lambda';

/** The parts of an HTTP request a function URL turns into an event. */
export interface IncomingHttpRequest {
  method: string;
  /** Path and query string as received, e.g. `/v1/chat?x=1`. */
  url: string;
  /** Node's `req.rawHeaders`: name, value, name, value, ... */
  rawHeaders: readonly string[];
  body: Buffer;
  sourceIp: string;
  /** The port the client connected to, reported in `x-forwarded-port`. */
  port: number;
  protocol: string;
}

/** Values the function URL service assigns to each request. */
export interface FunctionUrlIds {
  /** The function URL's id (the `<url-id>` in its domain). */
  urlId: string;
  requestId: string;
  receivedAt: Date;
}

// HTTP APIs and function URLs deliver these as text and base64-encode everything else,
// including a missing content type and form posts (checked against AWS:
// https://github.com/ministackorg/ministack/pull/766).
const TEXT_CONTENT_TYPE = /^(text\/[^;]+|application\/(json|xml|javascript))\s*(;|$)/i;

/**
 * Builds the Lambda function URL event (payload format 2.0) for a request:
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
 */
export function buildFunctionUrlEvent(
  request: IncomingHttpRequest,
  ids: FunctionUrlIds,
): LambdaFunctionURLEvent {
  const queryStart = request.url.indexOf('?');
  const rawPath = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const rawQueryString = queryStart === -1 ? '' : request.url.slice(queryStart + 1);
  const { headers, cookies } = collectHeaders(request.rawHeaders);
  headers['x-forwarded-for'] = request.sourceIp;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-port'] = String(request.port);
  headers['x-amzn-trace-id'] ??= traceId(ids.receivedAt);
  const host = headers.host ?? `${ids.urlId}.lambda-url.local`;

  const event: LambdaFunctionURLEvent = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: ids.urlId,
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method: request.method,
        path: rawPath,
        protocol: request.protocol,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: ids.requestId,
      routeKey: '$default',
      stage: '$default',
      time: clfTime(ids.receivedAt),
      timeEpoch: ids.receivedAt.getTime(),
    },
    isBase64Encoded: false,
  };
  if (cookies.length > 0) event.cookies = cookies;
  const query = parseQuery(rawQueryString);
  if (query) event.queryStringParameters = query;
  if (request.body.length > 0) {
    const text = TEXT_CONTENT_TYPE.test(headers['content-type'] ?? '');
    event.body = request.body.toString(text ? 'utf8' : 'base64');
    event.isBase64Encoded = !text;
  }
  return event;
}

// Hop-by-hop headers end at the service's front door (RFC 9110, section 7.6.1).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Lower-cased names, repeated headers joined with commas; cookies move to their own list. */
function collectHeaders(rawHeaders: readonly string[]): {
  headers: Record<string, string>;
  cookies: string[];
} {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (HOP_BY_HOP.has(name)) continue;
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((cookie) => cookie.trim())
          .filter(Boolean),
      );
    } else {
      headers[name] = name in headers ? `${headers[name]},${value}` : value;
    }
  }
  return { headers, cookies };
}

/** Decoded parameters, repeated names joined with commas; undefined when there are none. */
function parseQuery(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    parameters[name] = name in parameters ? `${parameters[name]},${value}` : value;
  }
  return Object.keys(parameters).length > 0 ? parameters : undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, the format of `requestContext.time`. */
function clfTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

/** An X-Ray style `Root=1-<epoch hex>-<96 random bits>` id, as AWS adds to every request. */
function traceId(date: Date): string {
  const epoch = Math.floor(date.getTime() / 1000).toString(16);
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')}`;
}
