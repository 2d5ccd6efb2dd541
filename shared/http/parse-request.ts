import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { ValidationError } from '../domain/errors.js';
import type * as z from '../validation/zod.js';

/** Parses and validates a JSON body; every failure is a 400 that says what is wrong. */
export function parseJsonBody<S extends z.ZodMiniType>(
  event: LambdaFunctionURLEvent,
  schema: S,
): z.infer<S> {
  const raw = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ValidationError('the request body must be JSON');
  }
  return parseWith(schema, json);
}

export function parseQuery<S extends z.ZodMiniType>(
  event: LambdaFunctionURLEvent,
  schema: S,
): z.infer<S> {
  return parseWith(schema, event.queryStringParameters ?? {});
}

function parseWith<S extends z.ZodMiniType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((issue) =>
      issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
    );
    throw new ValidationError(problems.join('; '));
  }
  return result.data;
}
