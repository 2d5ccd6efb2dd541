import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationIdOfChat } from '../../functions/chat/routes/ui-chat-id.js';
import { collectSse, json } from './support/sse.js';
import { startTestStack, type TestStack } from './support/test-stack.js';

type SentBody = {
  system?: Array<{ text: string }>;
  messages: Array<{ role: string; content: Array<{ text: string }> }>;
};

const ENDED = ['succeeded', 'failed', 'dead_lettered'];

interface Listed {
  id: string;
  seq: number;
  role: string;
  content: string;
}

describe('a compacted conversation', () => {
  let stack: TestStack;
  const userId = 'compacted';
  let conversationId: string;
  let summaryThroughSeq: number;

  beforeAll(async () => {
    stack = await startTestStack({ worker: true, env: { COMPACTION_THRESHOLD_TOKENS: '150' } });
    let id: string | undefined;
    for (let i = 0; i < 6; i++) {
      const events = await collectSse(
        await stack.chat(userId, {
          message: `Q${i}: ${'words about the topic '.repeat(8)}`,
          ...(id && { conversationId: id }),
        }),
      );
      id = String(events[0]!.data.conversationId);
    }
    conversationId = id!;
    // Every compaction asked for has ended: the summary moves no further under the tests.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { jobs } = await json(await stack.request(userId, 'GET', '/v1/jobs'));
      const statuses = jobs.map((job: { status: string }) => job.status);
      if (statuses.length > 0 && statuses.every((s: string) => ENDED.includes(s))) break;
      if (Date.now() > deadline) throw new Error(`compactions still ${statuses}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const { Item } = await stack.documentClient.send(
      new GetCommand({
        TableName: stack.tableName,
        Key: { pk: `USER#${userId}#CONV#${conversationId}`, sk: 'META' },
        ConsistentRead: true,
      }),
    );
    expect(Item?.summary).toEqual(expect.any(String));
    summaryThroughSeq = Number(Item?.summaryThroughSeq);
  }, 60_000);
  afterAll(() => stack.close());

  /** Its messages with their sequence numbers: none superseded, the nth is seq n. */
  const listed = async (): Promise<Listed[]> =>
    (
      await json(
        await stack.request(userId, 'GET', `/v1/conversations/${conversationId}?limit=100`),
      )
    ).messages.map((message: Omit<Listed, 'seq'>, index: number) => ({
      ...message,
      seq: index + 1,
    }));

  it('refuses to replace a message its summary holds, and replaces nothing', async () => {
    const before = await listed();
    const summarizedQuestion = before.find((m) => m.role === 'user')!;
    const summarizedAnswer = before.find((m) => m.role === 'assistant')!;
    expect(summarizedAnswer.seq).toBeLessThanOrEqual(summaryThroughSeq);

    const edit = await stack.chat(userId, {
      conversationId,
      message: 'Q0, asked otherwise',
      replaces: summarizedQuestion.id,
    });
    const regenerate = await stack.request(
      userId,
      'POST',
      `/v1/conversations/${conversationId}/regenerate`,
      { messageId: summarizedAnswer.id },
    );

    expect([edit.status, regenerate.status]).toEqual([409, 409]);
    expect((await json(edit)).error.message).toMatch(/summarized already/);
    expect(await listed()).toEqual(before);
  });

  it('sends the summary and every message after it, once and in order', async () => {
    const before = await listed();
    await collectSse(await stack.chat(userId, { conversationId, message: 'And now?' }));

    // The last request may be the worker's next compaction: find the turn's own.
    const sent = stack.claude.requests
      .map((request) => request.body as SentBody)
      .findLast((body) => body.messages.at(-1)?.content.at(-1)?.text === 'And now?')!;
    expect(sent.system?.map((block) => block.text)).toEqual([
      expect.stringMatching(/^Summary of the earlier conversation:\n\S/),
    ]);
    expect(
      sent.messages.map((m) => [m.role, m.content.map((block) => block.text).join('')]),
    ).toEqual([
      ...before.filter((m) => m.seq > summaryThroughSeq).map((m) => [m.role, m.content]),
      ['user', 'And now?'],
    ]);
  });

  /** The conversation's item as stored. */
  const conversationItem = async (user: string, id: string) =>
    (
      await stack.documentClient.send(
        new GetCommand({
          TableName: stack.tableName,
          Key: { pk: `USER#${user}#CONV#${id}`, sk: 'META' },
          ConsistentRead: true,
        }),
      )
    ).Item;
  /** Whether every job of the user (their compactions) has ended. */
  const allJobsEnded = async (user: string) => {
    const { jobs } = await json(await stack.request(user, 'GET', '/v1/jobs?limit=100'));
    return jobs.every((job: { status: string }) => ENDED.includes(job.status));
  };
  const untilAllJobsEnded = (user: string) =>
    expect.poll(() => allJobsEnded(user), { timeout: 15_000, interval: 100 }).toBe(true);

  it('compacts a useChat chat deleted and started again under its id, as it did the first time', async () => {
    const user = 'remade-chat';
    const chatId = 'remade';
    const conversation = conversationIdOfChat(user, chatId);
    const summaryOf = async () => (await conversationItem(user, conversation))?.summary;
    /** The turn after which the chat first has a summary. */
    const talk = async (round: string) => {
      const first = await stack.request(user, 'POST', '/v1/ui/chat', {
        id: chatId,
        messages: [
          { id: 'u1', role: 'user', parts: [{ type: 'text', text: `${round} first question` }] },
        ],
        trigger: 'submit-message',
      });
      expect(first.status).toBe(200);
      await first.text();
      for (let turn = 1; turn < 8; turn++) {
        await collectSse(
          await stack.chat(user, {
            conversationId: conversation,
            message: `${round} ${turn}: ${'words about the topic '.repeat(8)}`,
          }),
        );
        await untilAllJobsEnded(user);
        if (await summaryOf()) return turn;
      }
      return undefined;
    };

    const before = await talk('Before');
    const deleted = await stack.request(user, 'DELETE', `/v1/conversations/${conversation}`);
    expect(deleted.status).toBe(204);
    const after = await talk('After');

    expect(before).toEqual(expect.any(Number));
    expect(after).toBe(before);
  });

  it('compacts a conversation whose first question alone passed the threshold, once there is something to fold', async () => {
    const user = 'one-long-question';
    const short = '[[local-claude: tokens=1]]';
    // ~190 estimated tokens: past the threshold (150) with the first turn, below twice it
    // with the four short turns after it.
    const events = await collectSse(
      await stack.chat(user, { message: `${short} ${'a long pasted text '.repeat(38)}` }),
    );
    const id = String(events[0]!.data.conversationId);
    for (let turn = 1; turn <= 4; turn++) {
      await collectSse(await stack.chat(user, { conversationId: id, message: `${short} ${turn}` }));
      await untilAllJobsEnded(user);
    }
    const Item = await conversationItem(user, id);

    expect(Number(Item?.uncompactedTokens)).toBeLessThan(300);
    expect(Item?.summaryThroughSeq).toBeGreaterThanOrEqual(2);
  });

  it('compacts a conversation whose first answer was regenerated, once there is something to fold', async () => {
    const user = 'regenerator';
    const short = '[[local-claude: tokens=1]]';
    const events = await collectSse(
      await stack.chat(user, { message: `${short} ${'a long pasted text '.repeat(38)}` }),
    );
    const id = String(events[0]!.data.conversationId);
    // Past the threshold with the replaced answers, but only two messages a compaction reads.
    for (let i = 0; i < 3; i++) {
      await (await stack.request(user, 'POST', `/v1/conversations/${id}/regenerate`, {})).text();
      await untilAllJobsEnded(user);
    }
    for (let turn = 1; turn <= 3; turn++) {
      await collectSse(await stack.chat(user, { conversationId: id, message: `${short} ${turn}` }));
      await untilAllJobsEnded(user);
    }
    const Item = await conversationItem(user, id);

    expect(Number(Item?.uncompactedTokens)).toBeLessThan(300);
    expect(Item?.summaryThroughSeq).toBeGreaterThanOrEqual(5);
  });

  it('keeps sending the whole history of a conversation Claude refused to summarize', async () => {
    const refuser = 'refused-summary';
    let id: string | undefined;
    for (let i = 0; i < 6; i++) {
      // The directive is in the first question only, so of the turns only that one is
      // refused, but every compaction's transcript holds it.
      const directive = i === 0 ? '[[local-claude: stop-reason=refusal tokens=1]] ' : '';
      const events = await collectSse(
        await stack.chat(refuser, {
          message: `${directive}R${i}: ${'words about the topic '.repeat(8)}`,
          ...(id && { conversationId: id }),
        }),
      );
      id = String(events[0]!.data.conversationId);
    }
    const deadline = Date.now() + 30_000;
    let jobs: Array<{ status: string; error?: { type: string } }> = [];
    while (!jobs.some((job) => job.status === 'failed') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      jobs = (await json(await stack.request(refuser, 'GET', '/v1/jobs'))).jobs;
    }
    expect(jobs.find((job) => job.status === 'failed')?.error?.type).toBe('refusal');
    expect(jobs.map((job) => job.status)).not.toContain('succeeded');

    await collectSse(await stack.chat(refuser, { conversationId: id, message: 'Still there?' }));
    const sent = stack.claude.requests
      .map((request) => request.body as SentBody)
      .findLast((body) => body.messages.at(-1)?.content.at(-1)?.text === 'Still there?')!;
    expect(sent.system).toBeUndefined();
    expect(sent.messages).toHaveLength(13);
  });
});
