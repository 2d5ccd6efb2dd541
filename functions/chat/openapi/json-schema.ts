import { type JSONSchema, toJSONSchema } from 'zod/v4/core';
import type * as z from '../../../shared/validation/zod.js';

export type JsonSchema = JSONSchema.BaseSchema;

/**
 * A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect). `input` describes what a
 * request may send (defaults make fields optional), `output` what a response carries
 * (exactly its fields: `additionalProperties: false`). A refinement has no JSON Schema:
 * it is left out, and its rule belongs in the schema's description.
 */
export function jsonSchemaOf(schema: z.ZodMiniType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...json } = toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  });
  return tidy(json) as JsonSchema;
}

const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/**
 * What zod writes that says nothing to a reader: `additionalProperties: {}` (any) becomes
 * `true`; `z.int()`'s safe-integer bounds and the date-time regex beside `format:
 * date-time` are dropped.
 */
function tidy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(tidy);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if ((key === 'minimum' || key === 'maximum') && SAFE_INTEGER_BOUNDS.has(inner as number)) {
      continue;
    }
    if (key === 'pattern' && (value as { format?: string }).format === 'date-time') continue;
    if (key === 'additionalProperties' && isEmptyObject(inner)) {
      out[key] = true;
      continue;
    }
    out[key] = tidy(inner);
  }
  return out;
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}
