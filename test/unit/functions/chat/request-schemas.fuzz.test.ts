import type { LambdaFunctionURLEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chatRequestSchema } from '../../functions/chat/request-schemas.js';
import { AppError, ValidationError } from '../../shared/domain/errors.js';
import { errorResponse } from '../../shared/http/error-response.js';
import { parseJsonBody } from '../../shared/http/parse-request.js';

const schema = chatRequestSchema({ maxMessageChars: 1000 });
const eventWith = (body: string | undefined, isBase64Encoded = false) =>
  ({ body, isBase64Encoded }) as unknown as LambdaFunctionURLEvent;

/** Parses like the chat route and answers like the error handler. */
function statusFor(body: string | undefined, isBase64Encoded = false): number {
  try {
    parseJsonBody(eventWith(body, isBase64Encoded), schema);
    return 200;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return errorResponse(error).statusCode;
  }
}

describe('the chat request parser', () => {
  it('answers any string body with success or a 400, never a 5xx or a crash', () => {
    fc.assert(
      fc.property(
        fc.option(fc.string({ unit: 'binary' }), { nil: undefined }),
        fc.boolean(),
        (body, base64) => {
          expect([200, 400]).toContain(statusFor(body, base64));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('answers any JSON value with success or a 400', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect([200, 400]).toContain(statusFor(JSON.stringify(value)));
      }),
      { numRuns: 2000 },
    );
  });

  it('answers near-valid requests with success or a 400 that names the field', () => {
    const nearlyValid = fc.record(
      {
        message: fc.oneof(
          fc.string(),
          fc.integer(),
          fc.constant(null),
          fc.string({ minLength: 1001, maxLength: 1100 }),
        ),
        conversationId: fc.oneof(fc.string(), fc.integer()),
        model: fc.oneof(fc.string(), fc.boolean()),
        system: fc.oneof(fc.string(), fc.array(fc.string())),
        maxTokens: fc.oneof(fc.integer(), fc.double(), fc.string()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(nearlyValid, (request) => {
        try {
          parseJsonBody(eventWith(JSON.stringify(request)), schema);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          expect((error as Error).message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects an empty or oversized message and unknown fields', () => {
    expect(statusFor(JSON.stringify({ message: '   ' }))).toBe(400);
    expect(statusFor(JSON.stringify({ message: 'x'.repeat(1001) }))).toBe(400);
    expect(statusFor(JSON.stringify({ message: 'hi', temperature: 2 }))).toBe(400);
    expect(statusFor(JSON.stringify({ message: 'hi', maxTokens: 1.5 }))).toBe(400);
    expect(statusFor(JSON.stringify({ message: 'hi' }))).toBe(200);
  });
});
