import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalClaude, startLocalClaude } from '../../../local-stack/local-claude/index.js';
import { createAnthropicClient } from '../../../shared/adapters/anthropic/anthropic-client.js';
import { AnthropicModelBatches } from '../../../shared/adapters/anthropic/anthropic-model-batches.js';
import { modelBatchesContract } from '../../contracts/model-batches.contract.js';

describe('AnthropicModelBatches on the local Claude', () => {
  let claude: LocalClaude;
  beforeAll(async () => {
    claude = await startLocalClaude({
      timeToFirstTokenMs: 0,
      tokensPerSecond: 0,
      batchProcessingMs: 100,
    });
  });
  afterAll(() => claude.close());

  const batchesOf = () =>
    new AnthropicModelBatches(createAnthropicClient({ apiKey: 'test', baseURL: claude.url }));

  modelBatchesContract(async () => ({
    batches: batchesOf(),
    overloaded: (request) => {
      const copy = structuredClone(request);
      const block = copy.request.messages.at(-1)?.blocks.at(-1);
      if (block) block.text += ' [[local-claude: fault=error-before status=529]]';
      return copy;
    },
  }));

  it("says how long a request the API refused as too long was, from the API's words", async () => {
    const batches = batchesOf();
    const { batchId } = await batches.submit([
      {
        customId: 'long-part',
        request: {
          model: 'claude-haiku-4-5',
          system: [{ text: 'You summarize documents.' }],
          messages: [
            {
              role: 'user',
              blocks: [
                {
                  text: 'A part. [[local-claude: fault=error-before status=400 prompt-tokens=215000]]',
                },
              ],
            },
          ],
          maxTokens: 64,
        },
      },
    ]);

    let state = await batches.check(batchId);
    while (state.state !== 'ended') {
      await new Promise((resolve) => setTimeout(resolve, 20));
      state = await batches.check(batchId);
    }

    expect(state.results[0]).toMatchObject({
      kind: 'errored',
      error: {
        kind: 'invalid_request',
        message:
          "the model rejected the request: the prompt is 215000 tokens, more than the model's 200000",
      },
    });
  });
});
