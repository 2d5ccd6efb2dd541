import { afterAll, beforeAll, describe } from 'vitest';
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

  modelBatchesContract(async () => ({
    batches: new AnthropicModelBatches(
      createAnthropicClient({ apiKey: 'test', baseURL: claude.url }),
    ),
    overloaded: (request) => {
      const copy = structuredClone(request);
      const block = copy.request.messages.at(-1)?.blocks.at(-1);
      if (block) block.text += ' [[local-claude: fault=error-before status=529]]';
      return copy;
    },
  }));
});
