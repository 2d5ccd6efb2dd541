import type { Middleware } from '@aws-lambda-powertools/event-handler/types';
import { ValidationError } from '../../../shared/domain/errors.js';
import type * as z from '../../../shared/validation/zod.js';

/**
 * Refuses a query parameter the route reads when it is given more than once
 * (`?status=failed&status=done`): which one was meant would be a guess, and Event
 * Handler's validation sees only the last.
 */
export function singleValuedQuery(query: z.ZodMiniType): Middleware | undefined {
  const shape = (query as Partial<z.ZodMiniObject>).shape;
  if (!shape) return undefined;
  const names = Object.keys(shape);
  return async ({ reqCtx, next }) => {
    const given = new URL(reqCtx.req.url).searchParams;
    const repeated = names.filter((name) => given.getAll(name).length > 1);
    if (repeated.length > 0) {
      throw new ValidationError(`${repeated.join(', ')}: given more than once; give one value`);
    }
    await next();
  };
}
