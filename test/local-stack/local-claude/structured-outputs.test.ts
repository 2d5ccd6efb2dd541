import Anthropic from '@anthropic-ai/sdk';
import { zodOutputFormat } from '@anthropic-ai/sdk/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type LocalClaude, startLocalClaude } from '../../../local-stack/local-claude/index.js';

const MODEL = 'claude-sonnet-4-6';
const Person = z.object({ name: z.string(), age: z.number(), tags: z.array(z.string()) });

describe('local Claude with structured outputs (output_config.format)', () => {
  let claude: LocalClaude;
  let client: Anthropic;
  beforeAll(async () => {
    claude = await startLocalClaude({ timeToFirstTokenMs: 0, tokensPerSecond: 0 });
    client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => claude.close());

  const params = (maxTokens: number) => ({
    model: MODEL,
    max_tokens: maxTokens,
    messages: [{ role: 'user' as const, content: 'Describe a person' }],
    output_config: { format: zodOutputFormat(Person) },
  });

  it("answers JSON following the schema, which the SDK's messages.parse reads (it answered prose)", async () => {
    const parsed = await client.messages.parse(params(1024));

    expect(parsed.stop_reason).toBe('end_turn');
    expect(Person.parse(parsed.parsed_output)).toEqual({
      name: 'Describe a person',
      age: 1,
      tags: ['Describe a person'],
    });
    expect(parsed.usage.output_tokens).toBe(
      Math.ceil((parsed.content[0] as Anthropic.TextBlock).text.length / 4),
    );
  });

  it('streams the same JSON, and cuts it at max_tokens', async () => {
    const whole = await client.messages.create(params(1024));
    const streamed = await client.messages.stream(params(1024)).finalMessage();
    const cut = await client.messages.create(params(3));

    expect(streamed.content).toEqual(whole.content);
    expect(cut.stop_reason).toBe('max_tokens');
    expect(cut.usage.output_tokens).toBe(3);
    expect((cut.content[0] as Anthropic.TextBlock).text).toBe(
      (whole.content[0] as Anthropic.TextBlock).text.slice(0, 12),
    );
  });
});
