/**
 * What SQS refuses in a message that fauxqs takes: more than 10 attributes, an attribute
 * without a value, with a character SQS refuses in its value or with a name SQS does not
 * allow, a delay over 15 minutes. A producer tested on the emulator alone would
 * send them and fail on AWS.
 */

/** The attributes a message may carry. */
export const MAX_MESSAGE_ATTRIBUTES = 10;
/** The longest DelaySeconds SQS takes. */
export const MAX_DELAY_SECONDS = 900;

/**
 * An attribute name SQS takes: up to 256 letters, digits, `_`, `-` and `.`, no period first,
 * last or doubled, and not starting with the prefixes AWS keeps (`AWS.`, `Amazon.`, any case).
 */
export const ATTRIBUTE_NAME = /^(?!aws\.|amazon\.)(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$/i;

/** A message as SendMessage, or an entry of SendMessageBatch, names it (JSON protocol). */
export interface SentMessage {
  DelaySeconds?: unknown;
  MessageAttributes?: Record<
    string,
    { DataType?: unknown; StringValue?: unknown; BinaryValue?: unknown }
  >;
}

/**
 * A character SQS refuses in a body, and so in a String or Number attribute's value, which
 * "has the same restrictions as the message body" (API_MessageAttributeValue): outside
 * `#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`, a lone
 * surrogate included. fauxqs checks bodies only (and wrongly refuses emoji in them).
 */
export const CHARACTER_SQS_REFUSES = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** SQS's reason for refusing `message`, or undefined when it takes it. */
export function refusalOf(message: SentMessage): string | undefined {
  const delay = message.DelaySeconds;
  if (typeof delay === 'number' && (delay < 0 || delay > MAX_DELAY_SECONDS)) {
    return `Value ${delay} for parameter DelaySeconds is invalid. Reason: must be between 0 and ${MAX_DELAY_SECONDS}, if provided.`;
  }
  const attributes = Object.entries(message.MessageAttributes ?? {});
  if (attributes.length > MAX_MESSAGE_ATTRIBUTES) {
    return `Number of message attributes [${attributes.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`;
  }
  for (const [name, attribute] of attributes) {
    if (!ATTRIBUTE_NAME.test(name)) {
      return `Message (user) attribute name '${name}' is invalid.`;
    }
    // `Number.float`, `Binary.gif`: a custom type names its base type first.
    const baseType = String(attribute.DataType ?? '').split('.')[0];
    const value = baseType === 'Binary' ? attribute.BinaryValue : attribute.StringValue;
    if (typeof value !== 'string' || value === '') {
      return `Message (user) attribute '${name}' must contain a non-empty value of type '${baseType}'.`;
    }
    if (baseType !== 'Binary' && CHARACTER_SQS_REFUSES.test(value)) {
      return `Message (user) attribute '${name}' value contains invalid characters.`;
    }
  }
  return undefined;
}
