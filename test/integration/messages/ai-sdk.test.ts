import { createAnthropic } from '@ai-sdk/anthropic';
import { generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApiKey } from '../support/api-keys.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

const MODEL = 'claude-sonnet-4-6';

/** `@ai-sdk/anthropic` with `ai`, unchanged but for its base URL and key (sent as x-api-key). */
describe('/v1/messages with the Vercel AI SDK', () => {
  let stack: TestStack;
  let anthropic: ReturnType<typeof createAnthropic>;

  beforeAll(async () => {
    stack = await startTestStack();
    const { key } = await createApiKey(stack, { principal: 'ai-sdk-user' });
    anthropic = createAnthropic({ baseURL: `${stack.url}/v1`, apiKey: key });
  });
  afterAll(() => stack.close());

  it('generateText', async () => {
    const result = await generateText({
      model: anthropic(MODEL),
      prompt: 'Say something [[local-claude: tokens=6]]',
      maxOutputTokens: 50,
    });

    expect(result.text.trim().split(/\s+/)).toHaveLength(6);
    expect(result.usage.outputTokens).toBe(6);
    expect(result.finishReason).toBe('stop');
    const upstream = stack.claude.requests.at(-1)!;
    expect(upstream.headers['anthropic-version']).toBe('2023-06-01');
  });

  it("generateText with the SDK's own max_tokens: the model's largest output, as the README's example sends it", async () => {
    const result = await generateText({
      model: anthropic(MODEL),
      prompt: 'Say something [[local-claude: tokens=3]]',
    });

    expect(result.text.trim().split(/\s+/)).toHaveLength(3);
    expect((stack.claude.requests.at(-1)!.body as { max_tokens: number }).max_tokens).toBe(128_000);
  });

  it('generateText with a system message mid-conversation (it was a 400)', async () => {
    const result = await generateText({
      model: anthropic(MODEL),
      allowSystemInMessages: true,
      maxOutputTokens: 50,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi.' },
        { role: 'system', content: 'Now answer in two words.' },
        { role: 'user', content: 'Say something [[local-claude: tokens=2]]' },
      ],
    });

    expect(result.text.trim().split(/\s+/)).toHaveLength(2);
    const upstream = stack.claude.requests.at(-1)!;
    expect(upstream.headers['anthropic-beta']).toContain('mid-conversation-system-2026-04-07');
    const { messages } = upstream.body as { messages: Array<{ role: string }> };
    expect(messages.map((message) => message.role)).toEqual([
      'user',
      'assistant',
      'system',
      'user',
    ]);
  });

  it("generateText with Anthropic's text editor and memory tools under a small budget: the caller runs them, so they are not held as server tools (100,000 tokens each; it was a 402)", async () => {
    const { key: smallKey } = await createApiKey(stack, {
      principal: 'ai-sdk-editor',
      monthlyBudgetUsd: 0.5,
    });
    const editor = createAnthropic({ baseURL: `${stack.url}/v1`, apiKey: smallKey });
    const run = async () => 'done';

    const result = await generateText({
      model: editor(MODEL),
      prompt: 'Fix the typo in notes.md [[local-claude: tokens=4]]',
      maxOutputTokens: 100,
      tools: {
        str_replace_based_edit_tool: editor.tools.textEditor_20250728({ execute: run }),
        memory: editor.tools.memory_20250818({ execute: run }),
      },
    });

    expect(result.text.trim().split(/\s+/)).toHaveLength(4);
    const { tools } = stack.claude.requests.at(-1)!.body as { tools: Array<{ type: string }> };
    expect(tools.map((tool) => tool.type)).toEqual(['text_editor_20250728', 'memory_20250818']);
  });

  it('generateObject in both modes the provider uses: structured outputs (output_config.format) and a forced json tool', async () => {
    const schema = z.object({ name: z.string(), age: z.number() });
    const ask = (structuredOutputMode: 'outputFormat' | 'jsonTool') =>
      generateObject({
        model: anthropic(MODEL),
        schema,
        prompt: 'A person',
        maxOutputTokens: 100,
        providerOptions: { anthropic: { structuredOutputMode } },
      });

    const formatted = await ask('outputFormat');
    const formattedBody = stack.claude.requests.at(-1)!.body as Record<string, unknown>;
    const tooled = await ask('jsonTool');
    const tooledBody = stack.claude.requests.at(-1)!.body as Record<string, unknown>;

    expect(formatted.object).toEqual({ name: 'A person', age: 1 });
    expect(formattedBody).toHaveProperty('output_config.format.type', 'json_schema');
    expect(tooled.object).toEqual({ name: 'A person', age: 1 });
    expect(tooledBody).toMatchObject({ tool_choice: { type: 'any' }, tools: [{ name: 'json' }] });
  });

  it("tells a caller whose baseURL lacks the /v1 which paths are served (it said only 'no such route')", async () => {
    const { key } = await createApiKey(stack, { principal: 'ai-sdk-no-v1' });
    const misconfigured = createAnthropic({ baseURL: stack.url, apiKey: key });

    const error = await generateText({
      model: misconfigured(MODEL),
      prompt: 'Hello',
      maxRetries: 0,
    }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({
      statusCode: 404,
      message: expect.stringMatching(
        /^POST \/messages is not served here; .* POST \/v1\/messages,/,
      ),
    });
  });

  it('streamText with a tool: the model calls it, the SDK runs it, the model answers', async () => {
    const seen: string[] = [];
    const result = streamText({
      model: anthropic(MODEL),
      maxOutputTokens: 200,
      stopWhen: stepCountIs(2),
      tools: {
        get_weather: tool({
          description: 'The weather in a city',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => {
            seen.push(city);
            return `Sunny in ${city}`;
          },
        }),
      },
      prompt: 'What is the weather in Paris? [[local-claude: reply=tool]]',
    });

    const text = await result.text;
    const steps = await result.steps;

    expect(seen).toHaveLength(1);
    expect(steps[0]?.finishReason).toBe('tool-calls');
    expect(text).toMatch(/^Tool result: /);
  });
});
