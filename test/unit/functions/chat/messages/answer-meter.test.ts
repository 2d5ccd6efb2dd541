import { describe, expect, it } from 'vitest';
import { AnswerMeter } from '../../../../../functions/chat/messages/answer-meter.js';
import {
  estimateOutputTokens,
  MAX_OUTPUT_TOKENS_PER_SECOND,
} from '../../../../../shared/domain/tokens.js';

const MODEL = 'claude-sonnet-4-5-20250929';

const messageStart = {
  type: 'message_start',
  message: {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: MODEL,
    content: [],
    stop_reason: null,
    usage: {
      input_tokens: 12,
      cache_read_input_tokens: 40,
      cache_creation_input_tokens: 300,
      cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 },
      output_tokens: 1,
    },
  },
};
const textDelta = (text: string) => ({
  type: 'content_block_delta',
  index: 0,
  delta: { type: 'text_delta', text },
});
const thinkingDelta = (thinking: string) => ({
  type: 'content_block_delta',
  index: 0,
  delta: { type: 'thinking_delta', thinking },
});
const jsonDelta = (partial_json: string) => ({
  type: 'content_block_delta',
  index: 1,
  delta: { type: 'input_json_delta', partial_json },
});
/** message_delta usage is cumulative: the API repeats the input counts with the final output. */
const messageDelta = {
  type: 'message_delta',
  delta: { stop_reason: 'end_turn', stop_sequence: null },
  usage: {
    input_tokens: 12,
    cache_read_input_tokens: 40,
    cache_creation_input_tokens: 300,
    output_tokens: 57,
    server_tool_use: { web_search_requests: 2 },
  },
};

/** The request's max_tokens. */
const MAX_TOKENS = 1_000;

function meterOf(
  events: ReadonlyArray<[string, unknown]>,
  maxTokens = MAX_TOKENS,
  runningMs?: number,
): AnswerMeter {
  const meter = new AnswerMeter(maxTokens, runningMs === undefined ? undefined : () => runningMs);
  for (const [name, data] of events) meter.observe(name, data);
  return meter;
}

const FULL_STREAM: Array<[string, unknown]> = [
  ['message_start', messageStart],
  [
    'content_block_start',
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  ],
  ['ping', { type: 'ping' }],
  ['content_block_delta', textDelta('Hello')],
  ['content_block_delta', textDelta(', world')],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  ['message_delta', messageDelta],
  ['message_stop', { type: 'message_stop' }],
];

describe('AnswerMeter', () => {
  it('reads the exact usage, stop reason and model of a whole stream', () => {
    const meter = meterOf(FULL_STREAM);

    expect(meter.result()).toEqual({
      model: MODEL,
      usage: {
        inputTokens: 12,
        outputTokens: 57,
        cacheReadInputTokens: 40,
        cacheCreationInputTokens: 300,
        cacheCreation1hInputTokens: 200,
        webSearchRequests: 2,
      },
      usageEstimated: false,
      stopReason: 'end_turn',
      complete: true,
    });
  });

  it('takes the last cumulative output count, never a sum of them', () => {
    const meter = meterOf([
      ['message_start', messageStart],
      ['message_delta', { type: 'message_delta', delta: {}, usage: { output_tokens: 20 } }],
      ['message_delta', messageDelta],
      ['message_stop', { type: 'message_stop' }],
    ]);

    expect(meter.result().usage.outputTokens).toBe(57);
  });

  it('estimates the output of a stream cut before message_delta from the text, thinking and tool input it generated', () => {
    const generated = {
      thinking: 'Let me think about 漢字 carefully. '.repeat(20),
      text: 'The answer is 😀 forty-two. '.repeat(30),
      partialJson: ['{"place": "Os', 'lo, Norwa', 'y"}'],
    };
    const meter = meterOf([
      ['message_start', messageStart],
      ['content_block_delta', thinkingDelta(generated.thinking)],
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM' },
        },
      ],
      ['content_block_delta', textDelta(generated.text)],
      ...generated.partialJson.map((part): [string, unknown] => [
        'content_block_delta',
        jsonDelta(part),
      ]),
    ]);

    const result = meter.result();

    const allGenerated = generated.thinking + generated.text + generated.partialJson.join('');
    expect(result.usageEstimated).toBe(true);
    expect(result.usage.outputTokens).toBeGreaterThanOrEqual(estimateOutputTokens(allGenerated));
    expect(result.usage).toMatchObject({
      inputTokens: 12,
      cacheReadInputTokens: 40,
      cacheCreationInputTokens: 300,
    });
    expect(result.complete).toBe(false);
    expect(result.stopReason).toBeUndefined();
    expect(result.model).toBe(MODEL);
  });

  it('never estimates more output than max_tokens allows', () => {
    const meter = meterOf(
      [
        ['message_start', messageStart],
        ['content_block_delta', textDelta('x'.repeat(3_000))],
      ],
      50,
    );

    expect(meter.result().usage.outputTokens).toBe(50);
  });

  it('bills a stream cut once thinking began as much as it can have generated in the time it ran: thinking is billed whole but shown summarized, or not at all', () => {
    for (const type of ['thinking', 'redacted_thinking']) {
      const cutAfter = (runningMs?: number) =>
        meterOf(
          [
            ['message_start', messageStart],
            [
              'content_block_start',
              { type: 'content_block_start', index: 0, content_block: { type } },
            ],
            ['content_block_delta', textDelta('Hi')],
          ],
          4_000,
          runningMs,
        ).result().usage.outputTokens;

      expect(cutAfter(2_500), type).toBe(2.5 * MAX_OUTPUT_TOKENS_PER_SECOND);
      expect(cutAfter(60_000), type).toBe(4_000);
      // How long it ran untold: all of max_tokens.
      expect(cutAfter(), type).toBe(4_000);
    }
  });

  it('bills a stream cut at once after thinking began no less than what it showed', () => {
    const thought = 'Weighing every option at length. '.repeat(200);
    const meter = meterOf(
      [
        ['message_start', messageStart],
        [
          'content_block_start',
          { type: 'content_block_start', index: 0, content_block: { type: 'thinking' } },
        ],
        ['content_block_delta', thinkingDelta(thought)],
      ],
      4_000,
      1,
    );

    expect(meter.result().usage.outputTokens).toBe(estimateOutputTokens(thought));
  });

  it('keeps the output count of message_start when a cut stream generated nothing more', () => {
    const meter = meterOf([['message_start', messageStart]]);

    expect(meter.result()).toMatchObject({ usageEstimated: true, complete: false });
    expect(meter.result().usage.outputTokens).toBeGreaterThanOrEqual(1);
  });

  it('bills every web search a cut stream showed results of, not one that failed', () => {
    const searchResult = (index: number, content: unknown) => ({
      type: 'content_block_start',
      index,
      content_block: { type: 'web_search_tool_result', tool_use_id: `srvtoolu_${index}`, content },
    });
    const results = [{ type: 'web_search_result', url: 'https://example.com', title: 'x' }];
    const failed = { type: 'web_search_tool_result_error', error_code: 'unavailable' };
    const meter = meterOf([
      ['message_start', messageStart],
      ['content_block_start', searchResult(1, results)],
      ['content_block_start', searchResult(3, results)],
      ['content_block_start', searchResult(5, failed)],
      ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
    ]);

    expect(meter.result()).toMatchObject({ usageEstimated: true, complete: false });
    expect(meter.result().usage.webSearchRequests).toBe(2);
  });

  it('reports exact usage but an incomplete answer when the stream is cut after message_delta', () => {
    const meter = meterOf(FULL_STREAM.slice(0, -1));

    expect(meter.result()).toMatchObject({
      usageEstimated: false,
      complete: false,
      stopReason: 'end_turn',
    });
    expect(meter.result().usage.outputTokens).toBe(57);
  });

  it('reports zero usage, estimated, when nothing arrived', () => {
    const result = new AnswerMeter(MAX_TOKENS).result();

    expect(result).toMatchObject({
      usage: {
        inputTokens: 0,
        outputTokens: 0,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 0,
      },
      usageEstimated: true,
      complete: false,
    });
    expect(result.model).toBeUndefined();
  });

  it('reports an error event as an incomplete answer, with its type and message', () => {
    const meter = meterOf([
      ['message_start', messageStart],
      ['content_block_delta', textDelta('Hel')],
      ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
    ]);

    expect(meter.result()).toMatchObject({
      complete: false,
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
  });

  it('reports an answer with an error event as incomplete even when message_stop came too', () => {
    const meter = meterOf([
      ...FULL_STREAM.slice(0, -1),
      ['error', { type: 'error', error: { type: 'api_error', message: 'Internal server error' } }],
      ['message_stop', { type: 'message_stop' }],
    ]);

    expect(meter.result()).toMatchObject({
      complete: false,
      error: { type: 'api_error', message: 'Internal server error' },
    });
  });

  it('reports an answer with an event that is not JSON as incomplete, however it ends: no SDK read it whole', () => {
    const meter = meterOf(FULL_STREAM);
    meter.observeUnreadable();

    expect(meter.result()).toMatchObject({
      complete: false,
      error: { type: 'api_error', message: 'an event of the answer was not JSON' },
      usageEstimated: false,
    });
  });

  it('names an error event without a type an api_error', () => {
    const meter = meterOf([['error', { type: 'error' }]]);

    expect(meter.result().error).toEqual({ type: 'api_error', message: '' });
  });

  it('reads the usage, stop reason and model of a whole message', () => {
    const meter = new AnswerMeter(MAX_TOKENS);

    meter.observeMessage({
      id: 'msg_02',
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [{ type: 'text', text: 'Hello' }],
      stop_reason: 'max_tokens',
      stop_sequence: null,
      usage: {
        input_tokens: 9,
        output_tokens: 16,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 50,
        cache_creation: { ephemeral_5m_input_tokens: 50, ephemeral_1h_input_tokens: 0 },
        server_tool_use: { web_search_requests: 1 },
      },
    });

    expect(meter.result()).toEqual({
      model: MODEL,
      usage: {
        inputTokens: 9,
        outputTokens: 16,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 50,
        cacheCreation1hInputTokens: 0,
        webSearchRequests: 1,
      },
      usageEstimated: false,
      stopReason: 'max_tokens',
      complete: true,
    });
  });

  it('reports a whole body that is not a message as incomplete', () => {
    const meter = new AnswerMeter(MAX_TOKENS);

    meter.observeMessage({ type: 'error', error: { type: 'api_error', message: 'boom' } });

    expect(meter.result().complete).toBe(false);
  });
});
