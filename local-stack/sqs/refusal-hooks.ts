import { randomUUID } from 'node:crypto';
import type { buildApp } from 'fauxqs';
import { publishRefusalOf } from '../sns/refused-publishes.js';
import { refusalOf, type SentMessage } from './refused-messages.js';

type FauxqsApp = ReturnType<typeof buildApp>;
/** A SendMessage or SendMessageBatch request, as fauxqs parsed it. */
type SendBody = SentMessage & { Entries?: Array<SentMessage & { Id?: unknown }> };

interface FailedEntry {
  Id: unknown;
  SenderFault: true;
  Code: 'InvalidParameterValue';
  Message: string;
}

const JSON_PROTOCOL = 'application/x-amz-json-1.0';

/**
 * Answers SendMessage and SendMessageBatch as SQS does for what it refuses (see
 * refused-messages.ts) before fauxqs sees them: the message with a 400, a batch entry among
 * the `Failed` of the batch, the others sent. SNS's Publish likewise (refused-publishes.ts).
 */
export function refuseWhatSqsRefuses(app: FauxqsApp): void {
  const refusedEntries = new WeakMap<object, FailedEntry[]>();

  app.addHook('preHandler', async (request, reply) => {
    const target = request.headers['x-amz-target'];
    const body = request.body as SendBody | undefined;
    if (request.method !== 'POST' || !body) return;
    const form = body as unknown as Record<string, unknown>;
    if (target === undefined && form.Action === 'Publish') {
      const refusal = publishRefusalOf(form);
      if (refusal === undefined) return;
      return reply
        .code(400)
        .header('content-type', 'text/xml')
        .send(
          `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>InvalidParameterValue</Code><Message>${escapeXml(refusal)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
        );
    }
    if (target === 'AmazonSQS.SendMessage') {
      const refusal = refusalOf(body);
      if (refusal === undefined) return;
      return reply
        .code(400)
        .header('content-type', JSON_PROTOCOL)
        .header('x-amzn-query-error', 'InvalidParameterValue;Sender')
        .send({ __type: 'com.amazonaws.sqs#InvalidParameterValue', message: refusal });
    }
    if (target === 'AmazonSQS.SendMessageBatch' && Array.isArray(body.Entries)) {
      const failed: FailedEntry[] = [];
      const taken = body.Entries.filter((entry) => {
        const refusal = refusalOf(entry);
        if (refusal === undefined) return true;
        failed.push({
          Id: entry.Id,
          SenderFault: true,
          Code: 'InvalidParameterValue',
          Message: refusal,
        });
        return false;
      });
      if (failed.length === 0) return;
      if (taken.length === 0) {
        return reply.header('content-type', JSON_PROTOCOL).send({ Successful: [], Failed: failed });
      }
      body.Entries = taken;
      refusedEntries.set(request, failed);
    }
  });

  app.addHook('onSend', async (request, _reply, payload) => {
    const failed = refusedEntries.get(request);
    if (!failed || typeof payload !== 'string') return payload;
    const result = JSON.parse(payload) as { Successful?: unknown[]; Failed?: FailedEntry[] };
    // fauxqs refused the whole batch (an unknown queue, say): that answer stands.
    if (!result.Successful) return payload;
    return JSON.stringify({ ...result, Failed: [...(result.Failed ?? []), ...failed] });
  });
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (character) => `&#${character.charCodeAt(0)};`);
}
