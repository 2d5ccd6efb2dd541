import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { measurePrompt } from '../../../../../functions/chat/messages/prompt-size.js';
import { utf8Bytes } from '../../../../../shared/domain/tokens.js';

/** The documented bounds of prompt-size.ts, restated so a change to them is noticed. */
const IMAGE_MAX_TOKENS = 10_000;
const PDF_PAGE_MAX_TOKENS = 5_000;
const PDF_MAX_PAGES = 100;
const TOOLS_OVERHEAD_TOKENS = 1_000;
const SERVER_TOOL_MAX_TOKENS = 100_000;
const MAX_PROMPT_TOKENS = 1_000_000;
/** What a media block adds beside its bound, its source left out (`,{"type":"document","source":null}`): never more. */
const FRAMING_BYTES = 40;

/** Characters of every UTF-8 width: 1, 2, 3 and 4 bytes. */
const character = fc
  .oneof(
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0x7ff }),
    fc.integer({ min: 0x800, max: 0xd7ff }),
    fc.integer({ min: 0x10000, max: 0x10ffff }),
  )
  .map((codePoint) => String.fromCodePoint(codePoint));
const text = (maxLength: number) => fc.string({ unit: character, maxLength });

const userSays = (...content: unknown[]) => ({
  messages: [{ role: 'user', content: [{ type: 'text', text: 'look at this' }, ...content] }],
});

const base64Image = (bytes: number) => ({
  type: 'image',
  source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(bytes) },
});
const urlImage = { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } };

/** A PDF whose page objects are in the clear, with its /Pages tree (which is not a page). */
function pdfWithPages(pages: number): string {
  const objects = [
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    `2 0 obj << /Type /Pages /Count ${pages} >> endobj`,
    ...Array.from(
      { length: pages },
      (_, i) => `${i + 3} 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj`,
    ),
  ];
  return Buffer.from(`%PDF-1.7\n${objects.join('\n')}\n%%EOF\n`, 'latin1').toString('base64');
}
const pdfDocument = (data: string) => ({
  type: 'document',
  source: { type: 'base64', media_type: 'application/pdf', data },
});

const tool = {
  name: 'get_weather',
  description: 'The weather at a place, today — in °C',
  input_schema: { type: 'object', properties: { place: { type: 'string' } } },
};
const webSearch = (fields: Record<string, unknown> = {}) => ({
  type: 'web_search_20250305',
  name: 'web_search',
  ...fields,
});

describe('measurePrompt', () => {
  describe('text', () => {
    it('bounds a system string and message strings by at least their UTF-8 bytes', () => {
      const system = 's'.repeat(3_000);
      const message = 'm'.repeat(2_000);

      const size = measurePrompt({ system, messages: [{ role: 'user', content: message }] });

      expect(size.maxTokens).toBeGreaterThanOrEqual(5_000);
    });

    it('counts every kind of text a request carries: system blocks, text, tool results, thinking, tool definitions', () => {
      const parts = {
        system: 'a'.repeat(1_000),
        userText: 'b'.repeat(2_000),
        thinking: 'c'.repeat(4_000),
        toolResult: 'd'.repeat(8_000),
        toolResultBlock: 'e'.repeat(16_000),
        toolDescription: 'f'.repeat(32_000),
      };
      const request = {
        system: [{ type: 'text', text: parts.system }],
        messages: [
          { role: 'user', content: [{ type: 'text', text: parts.userText }] },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: parts.thinking, signature: 'sig' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { place: 'Oslo' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_1', content: parts.toolResult },
              {
                type: 'tool_result',
                tool_use_id: 'toolu_2',
                content: [{ type: 'text', text: parts.toolResultBlock }],
              },
            ],
          },
        ],
        tools: [{ ...tool, description: parts.toolDescription }],
      };

      const size = measurePrompt(request);

      const allText = Object.values(parts).join('');
      expect(size.maxTokens).toBeGreaterThanOrEqual(utf8Bytes(allText) + TOOLS_OVERHEAD_TOKENS);
    });

    it.each([
      ['emoji', '😀', 4],
      ['CJK', '漢', 3],
      ['accented Latin', 'é', 2],
    ])('counts %s text by its bytes, not its characters', (_, character, bytesEach) => {
      const message = character.repeat(1_000);

      const size = measurePrompt({ messages: [{ role: 'user', content: message }] });

      expect(size.maxTokens).toBeGreaterThanOrEqual(1_000 * bytesEach);
    });

    it('counts a text document as its text', () => {
      const data = '漢'.repeat(2_000);
      const document = {
        type: 'document',
        source: { type: 'text', media_type: 'text/plain', data },
      };

      const without = measurePrompt(userSays());

      const size = measurePrompt(userSays(document));

      const added = size.maxTokens - without.maxTokens;
      expect(added).toBeGreaterThanOrEqual(utf8Bytes(data));
      expect(added).toBeLessThan(utf8Bytes(data) + 100);
    });

    it('counts a content document as its text', () => {
      const body = 'q'.repeat(7_000);
      const document = {
        type: 'document',
        source: { type: 'content', content: [{ type: 'text', text: body }] },
      };

      const without = measurePrompt(userSays());

      const size = measurePrompt(userSays(document));

      const added = size.maxTokens - without.maxTokens;
      expect(added).toBeGreaterThanOrEqual(7_000);
      expect(added).toBeLessThan(7_000 + 100);
    });

    it('bounds any text by at least its UTF-8 bytes, wherever it is', () => {
      fc.assert(
        fc.property(text(400), fc.constantFrom('system', 'message', 'tool_result'), (s, where) => {
          const request =
            where === 'system'
              ? { system: s, messages: [] }
              : where === 'message'
                ? { messages: [{ role: 'user', content: s }] }
                : {
                    messages: [
                      {
                        role: 'user',
                        content: [{ type: 'tool_result', tool_use_id: 't', content: s }],
                      },
                    ],
                  };

          expect(measurePrompt(request).maxTokens).toBeGreaterThanOrEqual(utf8Bytes(s));
        }),
      );
    });
  });

  describe('images', () => {
    it('adds the image bound for a base64 image, whatever the size of its data', () => {
      const without = measurePrompt(userSays());
      const small = measurePrompt(userSays(base64Image(1_000)));
      const large = measurePrompt(userSays(base64Image(400_000)));

      expect(large.maxTokens).toBe(small.maxTokens);
      expect(small.maxTokens - without.maxTokens).toBeGreaterThanOrEqual(IMAGE_MAX_TOKENS);
      expect(small.maxTokens - without.maxTokens).toBeLessThan(IMAGE_MAX_TOKENS + FRAMING_BYTES);
    });

    it('adds the same bound for an image by url as for one inline', () => {
      expect(measurePrompt(userSays(urlImage)).maxTokens).toBe(
        measurePrompt(userSays(base64Image(50_000))).maxTokens,
      );
    });

    it('adds the image bound once per image', () => {
      const one = measurePrompt(userSays(urlImage));
      const two = measurePrompt(userSays(urlImage, urlImage));

      expect(two.maxTokens - one.maxTokens).toBeGreaterThanOrEqual(IMAGE_MAX_TOKENS);
      expect(two.maxTokens - one.maxTokens).toBeLessThan(IMAGE_MAX_TOKENS + FRAMING_BYTES);
    });

    it('finds images inside tool results', () => {
      const size = measurePrompt({
        messages: [
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 't', content: [base64Image(100_000)] }],
          },
        ],
      });

      expect(size.maxTokens).toBeGreaterThanOrEqual(IMAGE_MAX_TOKENS);
      expect(size.maxTokens).toBeLessThan(IMAGE_MAX_TOKENS + 200);
    });

    it('finds images inside a document made of content blocks, and in a tool result', () => {
      const scans = Array.from({ length: 3 }, (_, i) => ({
        type: 'image',
        source: { type: 'url', url: `https://example.com/scan-${i}.png` },
      }));
      const document = { type: 'document', source: { type: 'content', content: scans } };
      const without = measurePrompt(userSays());

      const size = measurePrompt(userSays(document));
      const inToolResult = measurePrompt({
        messages: [
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 't', content: [document] }],
          },
        ],
      });

      expect(size.maxTokens - without.maxTokens).toBeGreaterThanOrEqual(3 * IMAGE_MAX_TOKENS);
      expect(size.maxTokens - without.maxTokens).toBeLessThan(3 * IMAGE_MAX_TOKENS + 200);
      expect(inToolResult.maxTokens).toBeGreaterThanOrEqual(3 * IMAGE_MAX_TOKENS);
    });

    it('counts an object of type image that is not a content block as the text it is', () => {
      const payload = 'x'.repeat(400_000);
      const inToolInput = measurePrompt({
        messages: [
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: 't', name: 'show', input: { type: 'image', payload } },
            ],
          },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'ok' }] },
        ],
      });
      const withTextSource = measurePrompt(userSays({ type: 'image', source: payload }));

      expect(inToolInput.maxTokens).toBeGreaterThanOrEqual(payload.length);
      expect(withTextSource.maxTokens).toBeGreaterThanOrEqual(payload.length);
    });
  });

  describe('PDF documents', () => {
    it("counts a document's title and context as text besides its pages", () => {
      const context = 'word '.repeat(80_000);
      const bare = measurePrompt(userSays(pdfDocument(pdfWithPages(1))));
      const annotated = measurePrompt(
        userSays({ ...pdfDocument(pdfWithPages(1)), title: 'Notes', context }),
      );

      expect(annotated.maxTokens - bare.maxTokens).toBeGreaterThanOrEqual(context.length);
    });

    it('bounds a PDF by the pages it shows, not counting its page tree', () => {
      const without = measurePrompt(userSays());

      const size = measurePrompt(userSays(pdfDocument(pdfWithPages(3))));

      const added = size.maxTokens - without.maxTokens;
      expect(added).toBeGreaterThanOrEqual(3 * PDF_PAGE_MAX_TOKENS);
      expect(added).toBeLessThan(3 * PDF_PAGE_MAX_TOKENS + FRAMING_BYTES);
    });

    it('bounds a PDF a web fetch brought back, replayed in the conversation, by its pages (it was its base64 text)', () => {
      const fetched = (document: unknown) => ({
        messages: [
          { role: 'user', content: 'read https://example.com/report.pdf' },
          {
            role: 'assistant',
            content: [
              {
                type: 'server_tool_use',
                id: 'srvtoolu_1',
                name: 'web_fetch',
                input: { url: 'https://example.com/report.pdf' },
              },
              {
                type: 'web_fetch_tool_result',
                tool_use_id: 'srvtoolu_1',
                content: {
                  type: 'web_fetch_result',
                  url: 'https://example.com/report.pdf',
                  content: document,
                },
              },
            ],
          },
          { role: 'user', content: 'summarize it' },
        ],
      });
      const size = measurePrompt(fetched(pdfDocument(pdfWithPages(20))));

      expect(size.maxTokens).toBeGreaterThanOrEqual(20 * PDF_PAGE_MAX_TOKENS);
    });

    it('bounds a PDF without visible pages by the most pages a PDF may have', () => {
      const compressed = Buffer.from(
        '%PDF-1.7\n1 0 obj << /Type /ObjStm /N 40 >> stream\nx\x9c\x03\x00endstream\n',
      ).toString('base64');
      const without = measurePrompt(userSays());

      const size = measurePrompt(userSays(pdfDocument(compressed)));

      const added = size.maxTokens - without.maxTokens;
      expect(added).toBeGreaterThanOrEqual(PDF_MAX_PAGES * PDF_PAGE_MAX_TOKENS);
      expect(added).toBeLessThan(PDF_MAX_PAGES * PDF_PAGE_MAX_TOKENS + FRAMING_BYTES);
    });

    it('bounds a PDF with compressed object streams by the most pages, whatever pages it shows', () => {
      // An incremental update (a signature, an annotation) shows one page in the clear; the
      // others sit in an object stream.
      const updated = Buffer.from(
        `${Buffer.from(pdfWithPages(1), 'base64').toString('latin1')}` +
          '9 0 obj << /Type /ObjStm /N 40 /Filter /FlateDecode >> stream\nx\x9c\x03\x00endstream\n%%EOF\n',
        'latin1',
      ).toString('base64');
      const without = measurePrompt(userSays());

      const size = measurePrompt(userSays(pdfDocument(updated)));

      expect(size.maxTokens - without.maxTokens).toBeGreaterThanOrEqual(
        PDF_MAX_PAGES * PDF_PAGE_MAX_TOKENS,
      );
    });

    it('reads names as a PDF reader does: #xx escapes and comments hide neither pages nor object streams', () => {
      const pdf = (body: string) =>
        Buffer.from(`%PDF-1.7\n${body}\n%%EOF\n`, 'latin1').toString('base64');
      const pages = (count: number, type: string) =>
        Array.from({ length: count }, (_, i) => `${i + 3} 0 obj << /Type ${type} >> endobj`).join(
          '\n',
        );
      const without = measurePrompt(userSays());
      const added = (data: string) =>
        measurePrompt(userSays(pdfDocument(data))).maxTokens - without.maxTokens;

      expect(added(pdf(pages(50, '/Pag#65')))).toBeGreaterThanOrEqual(50 * PDF_PAGE_MAX_TOKENS);
      expect(added(pdf(pages(50, '% a comment\n/Page')))).toBeGreaterThanOrEqual(
        50 * PDF_PAGE_MAX_TOKENS,
      );
      // NUL is white space to a PDF reader (not to a regex's \s): these are 50 pages, not 100.
      const nulSeparated = added(pdf(pages(50, '\0/Page')));
      expect(nulSeparated).toBeGreaterThanOrEqual(50 * PDF_PAGE_MAX_TOKENS);
      expect(nulSeparated).toBeLessThan(51 * PDF_PAGE_MAX_TOKENS);
      expect(
        added(
          pdf(`${pages(1, '/Page')}\n9 0 obj << /Type /ObjSt#6d /N 40 >> stream\nx\nendstream`),
        ),
      ).toBeGreaterThanOrEqual(PDF_MAX_PAGES * PDF_PAGE_MAX_TOKENS);
    });

    it('reads a PDF whose comments run on within a line at once (a run of them hung the function)', () => {
      const pdf = Buffer.from(
        `%PDF-1.7\n1 0 obj << /Type${' %'.repeat(17)} >> endobj\n%%EOF\n`,
        'latin1',
      ).toString('base64');
      const startedAtMs = Date.now();

      const size = measurePrompt(userSays(pdfDocument(pdf)));

      expect(Date.now() - startedAtMs).toBeLessThan(1000);
      expect(size.maxTokens).toBeGreaterThanOrEqual(PDF_MAX_PAGES * PDF_PAGE_MAX_TOKENS);
    });

    it('reads a PDF of many comments that name a type at once (each was read again to the end)', () => {
      const pdf = Buffer.from(
        `%PDF-1.7\n1 0 obj << /Type\n${'%/Type\n'.repeat(40_000)}/Page >> endobj\n%%EOF\n`,
        'latin1',
      ).toString('base64');
      const without = measurePrompt(userSays());
      const startedAtMs = Date.now();

      const size = measurePrompt(userSays(pdfDocument(pdf)));

      expect(Date.now() - startedAtMs).toBeLessThan(1000);
      expect(size.maxTokens - without.maxTokens).toBeGreaterThanOrEqual(PDF_PAGE_MAX_TOKENS);
      expect(size.maxTokens - without.maxTokens).toBeLessThan(PDF_PAGE_MAX_TOKENS + FRAMING_BYTES);
    });

    it('bounds a PDF by url by the most pages a PDF may have', () => {
      const byUrl = { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } };
      const without = measurePrompt(userSays());

      const size = measurePrompt(userSays(byUrl));

      expect(size.maxTokens - without.maxTokens).toBeGreaterThanOrEqual(
        PDF_MAX_PAGES * PDF_PAGE_MAX_TOKENS,
      );
    });

    it('expects a PDF whose pages cannot be counted to be of ten pages, not the most', () => {
      // The worst case on its own, 200,000 tokens, would fill a default rate window.
      const byUrl = { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } };
      const without = measurePrompt(userSays());

      const size = measurePrompt(userSays(byUrl));

      const added = size.typicalTokens - without.typicalTokens;
      expect(added).toBeGreaterThanOrEqual(10 * 2_000);
      expect(added).toBeLessThan(10 * 2_000 + FRAMING_BYTES);
    });

    it('bounds a PDF that shows more pages than a PDF may have at that most', () => {
      const without = measurePrompt(userSays());

      const size = measurePrompt(userSays(pdfDocument(pdfWithPages(150))));

      const added = size.maxTokens - without.maxTokens;
      expect(added).toBeGreaterThanOrEqual(PDF_MAX_PAGES * PDF_PAGE_MAX_TOKENS);
      expect(added).toBeLessThan(PDF_MAX_PAGES * PDF_PAGE_MAX_TOKENS + FRAMING_BYTES);
    });
  });

  describe('tools', () => {
    it('adds the tools overhead on top of the tool definitions', () => {
      const without = measurePrompt(userSays());

      const size = measurePrompt({ ...userSays(), tools: [tool] });

      expect(size.maxTokens - without.maxTokens).toBeGreaterThanOrEqual(
        utf8Bytes(JSON.stringify(tool)) + TOOLS_OVERHEAD_TOKENS,
      );
      expect(size.maxWebSearches).toBe(0);
    });

    it('adds what a server tool may bring into the context, and allows its max_uses searches', () => {
      const withClientTool = measurePrompt({ ...userSays(), tools: [tool] });

      const size = measurePrompt({ ...userSays(), tools: [tool, webSearch({ max_uses: 3 })] });

      expect(size.maxTokens - withClientTool.maxTokens).toBeGreaterThanOrEqual(
        SERVER_TOOL_MAX_TOKENS,
      );
      expect(size.maxWebSearches).toBe(3);
    });

    it('allows 10 web searches when the tool sets no max_uses', () => {
      expect(measurePrompt({ ...userSays(), tools: [webSearch()] }).maxWebSearches).toBe(10);
    });

    it('adds a server tool that is not web search to the bound, but allows no web searches', () => {
      const without = measurePrompt(userSays());

      const size = measurePrompt({
        ...userSays(),
        tools: [{ type: 'web_fetch_20250910', name: 'web_fetch', max_uses: 5 }],
      });

      expect(size.maxTokens - without.maxTokens).toBeGreaterThanOrEqual(
        SERVER_TOOL_MAX_TOKENS + TOOLS_OVERHEAD_TOKENS,
      );
      expect(size.maxWebSearches).toBe(0);
    });

    it("adds every use of a web fetch's max_content_tokens when they exceed the allowance (they did not count)", () => {
      const fetchTool = (fields: Record<string, unknown>) => ({
        ...userSays(),
        tools: [{ type: 'web_fetch_20250910', name: 'web_fetch', ...fields }],
      });
      const allowance = measurePrompt(fetchTool({ max_uses: 1 })).maxTokens;

      const many = measurePrompt(fetchTool({ max_uses: 5, max_content_tokens: 50_000 }));
      const unbounded = measurePrompt(fetchTool({ max_content_tokens: 50_000 }));
      const small = measurePrompt(fetchTool({ max_uses: 1, max_content_tokens: 1_000 }));

      expect(many.maxTokens - allowance).toBeGreaterThanOrEqual(250_000 - SERVER_TOOL_MAX_TOKENS);
      expect(unbounded.maxTokens - allowance).toBeGreaterThanOrEqual(
        500_000 - SERVER_TOOL_MAX_TOKENS,
      );
      // Never less than the allowance: a smaller bound per use holds what it held before.
      expect(small.maxTokens).toBeGreaterThanOrEqual(allowance);
    });

    it("holds each tool Anthropic defines but the caller runs (bash, text editor, computer, memory) at its definition's size, not as a server tool", () => {
      const clientRun = [
        { type: 'bash_20250124', name: 'bash' },
        { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' },
        {
          type: 'computer_20251124',
          name: 'computer',
          display_width_px: 1024,
          display_height_px: 768,
        },
        { type: 'memory_20250818', name: 'memory' },
      ];
      const without = measurePrompt(userSays());

      const size = measurePrompt({ ...userSays(), tools: clientRun });

      const added = size.maxTokens - without.maxTokens;
      // Each definition the API writes out: under 1,000 tokens today (computer use, 735).
      expect(added).toBeGreaterThanOrEqual(TOOLS_OVERHEAD_TOKENS + clientRun.length * 1_000);
      expect(added).toBeLessThan(SERVER_TOOL_MAX_TOKENS);
      expect(size.maxWebSearches).toBe(0);
    });

    it('treats a custom tool as a client tool, not a server tool', () => {
      const custom = { ...tool, type: 'custom' };

      const size = measurePrompt({ ...userSays(), tools: [custom] });

      expect(size.maxTokens).toBeLessThan(SERVER_TOOL_MAX_TOKENS);
      expect(size.maxWebSearches).toBe(0);
    });
  });

  describe('limits', () => {
    it('never bounds a prompt above the largest context window', () => {
      const huge = {
        ...userSays(
          ...Array.from({ length: 5 }, () => ({
            type: 'document',
            source: { type: 'url', url: 'https://example.com/big.pdf' },
          })),
        ),
        system: 'x'.repeat(300_000),
        tools: [webSearch(), webSearch({ name: 'web_search_2' })],
      };

      expect(measurePrompt(huge).maxTokens).toBe(MAX_PROMPT_TOKENS);
    });

    it('keeps the typical estimate within the bound', () => {
      const request = {
        system: 'be brief',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: '比较这两张图片 🐈'.repeat(50) },
              urlImage,
              pdfDocument(pdfWithPages(2)),
            ],
          },
        ],
        tools: [tool, webSearch()],
      };

      const size = measurePrompt(request);

      expect(size.typicalTokens).toBeGreaterThan(0);
      expect(size.typicalTokens).toBeLessThanOrEqual(size.maxTokens);
    });

    it('keeps the typical estimate within the bound for random text', () => {
      fc.assert(
        fc.property(text(300), (s) => {
          const size = measurePrompt({ messages: [{ role: 'user', content: s }] });
          expect(size.typicalTokens).toBeLessThanOrEqual(size.maxTokens);
        }),
      );
    });

    it('keeps the typical estimate within the bound when the bound is capped at the largest context window', () => {
      // Six PDFs by url: 6 × 100 pages, typically 2,000 tokens a page, is beyond 1M tokens.
      const pdfs = Array.from({ length: 6 }, () => ({
        type: 'document',
        source: { type: 'url', url: 'https://example.com/report.pdf' },
      }));

      const size = measurePrompt(userSays(...pdfs));

      expect(size.maxTokens).toBe(MAX_PROMPT_TOKENS);
      expect(size.typicalTokens).toBeLessThanOrEqual(size.maxTokens);
    });
  });
});
