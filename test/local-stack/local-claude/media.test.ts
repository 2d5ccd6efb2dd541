import Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  DocumentBlockParam,
  RawMessageStreamEvent,
  TextBlock,
} from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalClaude, startLocalClaude } from '../../../local-stack/local-claude/index.js';
import { API_HEADERS, TINY_PNG_BASE64, tinyPdf } from './fixtures.js';

const MODEL = 'claude-haiku-4-5';
/** 13 characters: 4 tokens. */
const QUESTION = 'Describe this';
const textDocument = (
  data: string,
  extra: Partial<DocumentBlockParam> = {},
): DocumentBlockParam => ({
  type: 'document',
  source: { type: 'text', media_type: 'text/plain', data },
  ...extra,
});

describe('local Claude images and documents', () => {
  let claude: LocalClaude;
  let client: Anthropic;
  beforeAll(async () => {
    claude = await startLocalClaude({ timeToFirstTokenMs: 0, tokensPerSecond: 0 });
    client = new Anthropic({ baseURL: claude.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(() => claude.close());

  const ask = (blocks: ContentBlockParam[], maxTokens = 64) =>
    client.messages.create({
      model: MODEL,
      max_tokens: maxTokens,
      messages: [{ role: 'user', content: [...blocks, { type: 'text', text: QUESTION }] }],
    });

  it('counts an image as 1600 input tokens, whatever its source', async () => {
    const base64 = await ask([
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: TINY_PNG_BASE64 } },
    ]);
    const url = await ask([
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);

    expect(base64.usage.input_tokens).toBe(1600 + 4);
    expect(url.usage.input_tokens).toBe(1600 + 4);
  });

  it('counts a PDF as 1500 tokens per started 10 KB of decoded data', async () => {
    const tiny = tinyPdf();
    const large = tinyPdf(25 * 1024);
    const pdf = (bytes: Buffer): DocumentBlockParam => ({
      type: 'document',
      source: { type: 'base64', media_type: 'application/pdf', data: bytes.toString('base64') },
    });

    const small = await ask([pdf(tiny)]);
    const big = await ask([pdf(large)]);

    expect(tiny.length).toBeLessThan(10 * 1024);
    expect(large.length).toBeGreaterThan(20 * 1024);
    expect(large.length).toBeLessThanOrEqual(30 * 1024);
    expect(small.usage.input_tokens).toBe(1500 + 4);
    expect(big.usage.input_tokens).toBe(3 * 1500 + 4);
  });

  it('counts a text document as its characters / 4, title and context included', async () => {
    const message = await ask([
      textDocument('x'.repeat(400), { title: 'Manual', context: 'v2' }),
      {
        type: 'document',
        source: { type: 'content', content: [{ type: 'text', text: 'abcdefgh' }] },
      },
    ]);

    expect(message.usage.input_tokens).toBe(100 + 2 + 2 + 4);
  });

  it('cites the first sentence of a text document that enables citations', async () => {
    const data = 'The grass is green. The sky is blue.';
    const plain = await ask([textDocument(data)]);
    const cited = await ask([
      textDocument(data, { title: 'Nature', citations: { enabled: true } }),
    ]);

    expect(plain.content).toHaveLength(1);
    const blocks = cited.content as TextBlock[];
    expect(blocks.map((block) => block.text).join('')).toBe((plain.content[0] as TextBlock).text);
    expect(blocks[0]!.citations).toEqual([
      {
        type: 'char_location',
        cited_text: 'The grass is green. ',
        document_index: 0,
        document_title: 'Nature',
        start_char_index: 0,
        end_char_index: 20,
        file_id: null,
      },
    ]);
    expect(blocks[0]!.text).toMatch(/\.$/);
    expect(blocks[1]?.citations ?? null).toBeNull();
  });

  it('streams one citations_delta before the cited text, which finalMessage() keeps', async () => {
    const params = {
      model: MODEL,
      max_tokens: 64,
      messages: [
        {
          role: 'user' as const,
          content: [
            textDocument('Ignore me.'),
            textDocument('Water boils at 100 degrees! Mostly.', { citations: { enabled: true } }),
            { type: 'text' as const, text: QUESTION },
          ],
        },
      ],
    };
    const raw = await client.messages.create({ ...params, stream: true });
    const events: RawMessageStreamEvent[] = [];
    for await (const event of raw) events.push(event);
    const final = await client.messages.stream(params).finalMessage();

    const citations = events.filter(
      (event) => event.type === 'content_block_delta' && event.delta.type === 'citations_delta',
    );
    expect(citations).toHaveLength(1);
    const firstDelta = events.find((event) => event.type === 'content_block_delta');
    expect(firstDelta).toBe(citations[0]);
    expect((final.content[0] as TextBlock).citations).toEqual([
      expect.objectContaining({
        type: 'char_location',
        cited_text: 'Water boils at 100 degrees! ',
        document_index: 1,
        document_title: null,
      }),
    ]);
  });

  it('cites a content document by block location', async () => {
    const message = await ask([
      {
        type: 'document',
        source: {
          type: 'content',
          content: [
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
            { type: 'text', text: 'First fact.' },
          ],
        },
        citations: { enabled: true },
      },
    ]);

    expect((message.content[0] as TextBlock).citations).toEqual([
      expect.objectContaining({
        type: 'content_block_location',
        cited_text: 'First fact.',
        start_block_index: 1,
        end_block_index: 2,
      }),
    ]);
  });

  const post = (block: unknown) =>
    fetch(`${claude.url}/v1/messages`, {
      method: 'POST',
      headers: API_HEADERS,
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, block] }],
      }),
    });
  const image = (media_type: string, data: string) => ({
    type: 'image',
    source: { type: 'base64', media_type, data },
  });

  it.each([
    [
      'an image media type the API does not take',
      image('image/tiff', TINY_PNG_BASE64),
      "messages.0.content.1.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
    ],
    [
      'image data that is not base64',
      image('image/png', 'not base64!'),
      'messages.0.content.1.image.source.base64: invalid base64 data',
    ],
    [
      'image data of another type than declared',
      image('image/jpeg', TINY_PNG_BASE64),
      'messages.0.content.1.image.source.base64.data: Image does not match the provided media type image/jpeg',
    ],
    [
      'an image without source',
      { type: 'image' },
      'messages.0.content.1.image.source: Field required',
    ],
    [
      'a base64 document that is not a PDF media type',
      {
        type: 'document',
        source: { type: 'base64', media_type: 'application/msword', data: 'AAAA' },
      },
      "messages.0.content.1.document.source.base64.media_type: Input should be 'application/pdf'",
    ],
    [
      'PDF data that is not a PDF',
      {
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: TINY_PNG_BASE64 },
      },
      'messages.0.content.1.document.source.base64.data: The PDF specified was not valid.',
    ],
    [
      'a text document that is not text/plain',
      { type: 'document', source: { type: 'text', media_type: 'text/html', data: '<p>' } },
      "messages.0.content.1.document.source.text.media_type: Input should be 'text/plain'",
    ],
    [
      'an unknown document source',
      { type: 'document', source: { type: 's3', key: 'x' } },
      "messages.0.content.1.document.source: Input tag 's3' found using 'type'",
    ],
    [
      'a citations setting that is not a boolean',
      { ...textDocument('Hi.'), citations: { enabled: 'yes' } },
      'messages.0.content.1.document.citations.enabled: Input should be a valid boolean',
    ],
  ])('rejects %s with 400 invalid_request_error', async (_case, block, message) => {
    const response = await post(block);

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringContaining(message) },
    });
  });
});
