import { randomUUID } from 'node:crypto';
import { RequestValidationError, Router } from '@aws-lambda-powertools/event-handler/http';
import { Logger } from '@aws-lambda-powertools/logger';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChatEnv } from '../../../../functions/chat/http/chat-router.js';
import { answerFor, errorHandler } from '../../../../functions/chat/http/error-response.js';
import { json } from '../../../../functions/chat/http/json-response.js';
import { defineRoute, registerRoutes } from '../../../../functions/chat/http/route.js';
import { chatRequestSchema } from '../../../../functions/chat/request-schemas.js';
import { createLambdaContext } from '../../../../local-stack/lambda-runtime/context.js';
import { buildFunctionUrlEvent } from '../../../../local-stack/lambda-runtime/function-url-event.js';

const MAX_MESSAGE_CHARS = 1000;
const schema = chatRequestSchema({ maxMessageChars: MAX_MESSAGE_CHARS });
const FIELDS = ['message', 'conversationId', 'model', 'system', 'maxTokens'] as const;

/** The documented shape of POST /v1/chat, written out apart from the schema. */
const VALID: Record<(typeof FIELDS)[number], (value: unknown) => boolean> = {
  message: (v) => typeof v === 'string' && v.trim().length > 0 && v.length <= MAX_MESSAGE_CHARS,
  conversationId: (v) =>
    v === undefined || (typeof v === 'string' && v.length >= 1 && v.length <= 100),
  model: (v) => v === undefined || (typeof v === 'string' && v.length >= 1 && v.length <= 100),
  system: (v) => v === undefined || (typeof v === 'string' && v.length <= MAX_MESSAGE_CHARS),
  maxTokens: (v) => v === undefined || (Number.isSafeInteger(v) && (v as number) > 0),
};

/** The fields of `value` that break the documented shape; undefined when it is not an object. */
function invalidFields(value: unknown): string[] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !(FIELDS as readonly string[]).includes(key));
  return [...FIELDS.filter((field) => !VALID[field](record[field])), ...unknown];
}

/** Validates a parsed body as Event Handler's validation middleware does, and answers like the error handler. */
function validate(body: unknown) {
  const result = schema.safeParse(body);
  if (result.success) return { data: result.data as unknown };
  // Event Handler prefixes each issue's path with the part of the request it is about.
  const error = new RequestValidationError(
    'Validation failed for request',
    result.error.issues.map((issue) => ({ message: issue.message, path: ['body', ...issue.path] })),
  );
  return { answer: answerFor(error) };
}

/** The route as the chat app registers it, to send whole function URL events through. */
function createApp() {
  const logger = new Logger({ serviceName: 'fuzz', logLevel: 'SILENT' });
  const app = new Router<ChatEnv>({ logger });
  registerRoutes(
    app,
    [
      defineRoute({
        method: 'POST',
        path: '/v1/chat',
        access: 'public',
        body: schema,
        handle: async () => json(200, { ok: true }),
      }),
    ],
    { authenticate: async ({ next }) => next(), requireAdmin: async ({ next }) => next() },
  );
  app.errorHandler(Error, errorHandler(logger));
  return app;
}

const app = createApp();

/** Requests of the documented shape. */
const validRequest = fc.record(
  {
    message: fc
      .string({ minLength: 1, maxLength: MAX_MESSAGE_CHARS })
      .filter((text) => text.trim().length > 0),
    conversationId: fc.string({ minLength: 1, maxLength: 100 }),
    model: fc.string({ minLength: 1, maxLength: 100 }),
    system: fc.string({ maxLength: MAX_MESSAGE_CHARS }),
    maxTokens: fc.integer({ min: 1 }),
  },
  { requiredKeys: ['message'] },
);

/** Requests close to valid: each field right, wrong-typed, out of bounds or absent. */
const nearlyValid = fc.record(
  {
    message: fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.constant('   '),
      fc.string({ minLength: 1001, maxLength: 1100 }),
    ),
    conversationId: fc.oneof(fc.string(), fc.integer(), fc.string({ minLength: 101 })),
    model: fc.oneof(fc.string(), fc.boolean()),
    system: fc.oneof(fc.string(), fc.array(fc.string())),
    maxTokens: fc.oneof(fc.integer(), fc.double(), fc.string()),
    temperature: fc.double(),
  },
  { requiredKeys: [] },
);

async function post(body: string | undefined, options: { base64?: boolean; contentType?: string }) {
  const event = buildFunctionUrlEvent(
    {
      method: 'POST',
      url: '/v1/chat',
      rawHeaders: options.contentType ? ['content-type', options.contentType] : [],
      body: Buffer.alloc(0),
      sourceIp: '203.0.113.7',
      port: 443,
      protocol: 'HTTP/1.1',
    },
    { urlId: 'fuzz', requestId: randomUUID(), receivedAt: new Date() },
  );
  const withBody = { ...event, body, isBase64Encoded: options.base64 ?? false };
  const result = await app.resolve(
    withBody,
    createLambdaContext({ functionName: 'chat', timeoutMs: 30_000 }),
  );
  return { status: result.statusCode!, body: JSON.parse(result.body ?? '{}') };
}

describe('the chat request schema', () => {
  it('answers any body, JSON or not, base64 or not, with success or a 400, never a 5xx', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.option(
          fc.oneof(
            fc.string({ unit: 'binary' }),
            fc.jsonValue().map((value) => JSON.stringify(value)),
            nearlyValid.map((request) => JSON.stringify(request)),
            validRequest.map((request) => JSON.stringify(request)),
          ),
          { nil: undefined },
        ),
        fc.boolean(),
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'text/plain',
          undefined,
        ),
        async (text, base64, contentType) => {
          // A function URL base64-encodes a body it does not take for text.
          const body = base64 && text !== undefined ? Buffer.from(text).toString('base64') : text;
          const response = await post(body, { base64, ...(contentType && { contentType }) });
          statuses.add(response.status);
          expect([200, 400]).toContain(response.status);
          if (response.status === 400) {
            expect(response.body.error.type).toBe('invalid_request_error');
          }
        },
      ),
      { numRuns: 2000 },
    );
    expect([...statuses].sort()).toEqual([200, 400]);
    // 2000 requests through Event Handler: seconds on a busy 2-core machine.
  }, 60_000);

  it('parses any JSON value to the documented shape or answers a 400 invalid_request_error', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const outcome = validate(value);
        const invalid = invalidFields(value);
        if (outcome.answer) {
          expect(outcome.answer.status).toBe(400);
          expect(outcome.answer.type).toBe('invalid_request_error');
          expect(outcome.answer.message.length).toBeGreaterThan(0);
          expect(invalid === undefined || invalid.length > 0).toBe(true);
        } else {
          expect(invalid).toEqual([]);
          expect(outcome.data).toEqual(value);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('parses near-valid requests to the documented shape, or answers a 400 naming each bad field', () => {
    fc.assert(
      fc.property(nearlyValid, (request) => {
        // What arrives is JSON: NaN becomes null, -0 becomes 0.
        const body = JSON.parse(JSON.stringify(request)) as Record<string, unknown>;
        const invalid = invalidFields(body)!;
        const outcome = validate(body);
        if (invalid.length === 0) {
          expect(outcome.data).toEqual(body);
          return;
        }
        expect(outcome.answer?.status).toBe(400);
        expect(outcome.answer?.type).toBe('invalid_request_error');
        for (const field of invalid) {
          const named = field === 'temperature' ? '"temperature"' : `${field}: `;
          expect(outcome.answer?.message).toContain(named);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['a blank message', { message: '   ' }, 'message: message must not be empty'],
    [
      'an oversized message',
      { message: 'x'.repeat(1001) },
      'message: message must be at most 1000',
    ],
    ['an unknown field', { message: 'hi', temperature: 2 }, '"temperature"'],
    ['a fractional maxTokens', { message: 'hi', maxTokens: 1.5 }, 'maxTokens: '],
    ['no message', {}, 'message: '],
  ])('answers %s with 400 naming the field', async (_, request, named) => {
    const response = await post(JSON.stringify(request), { contentType: 'application/json' });
    expect(response.status).toBe(400);
    expect(response.body.error.type).toBe('invalid_request_error');
    expect(response.body.error.message).toContain(named);
  });

  it('accepts a plain message', async () => {
    const response = await post(JSON.stringify({ message: 'hi' }), {
      contentType: 'application/json',
    });
    expect(response.status).toBe(200);
  });
});
