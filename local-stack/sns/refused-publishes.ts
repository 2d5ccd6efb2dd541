import { ATTRIBUTE_NAME } from '../sqs/refused-messages.js';

/**
 * What SNS refuses in a Publish that fauxqs takes: a message attribute without a value, or
 * with a name SNS does not allow (its rules are SQS's). A producer tested on the emulator
 * alone would publish them and fail on AWS.
 *
 * @param params the Publish request's form fields (`MessageAttributes.entry.N.Name`, ...)
 * @returns SNS's reason for refusing it, or undefined when it takes it
 */
export function publishRefusalOf(params: Record<string, unknown>): string | undefined {
  const entries = new Set(
    Object.keys(params).flatMap((key) => {
      const entry = /^MessageAttributes\.entry\.(\d+)\./.exec(key)?.[1];
      return entry === undefined ? [] : [entry];
    }),
  );
  for (const entry of entries) {
    const field = (name: string) => params[`MessageAttributes.entry.${entry}.${name}`];
    const name = String(field('Name') ?? '');
    if (!ATTRIBUTE_NAME.test(name)) {
      return `Invalid parameter: Message attribute name '${name}' is invalid.`;
    }
    // `Number.float`, `Binary.gif`: a custom type names its base type first.
    const baseType = String(field('Value.DataType') ?? '').split('.')[0];
    const value = baseType === 'Binary' ? field('Value.BinaryValue') : field('Value.StringValue');
    if (typeof value !== 'string' || value === '') {
      return `Invalid parameter: Message attribute '${name}' must contain non-empty message attribute value for message attribute type '${baseType}'.`;
    }
  }
  return undefined;
}
