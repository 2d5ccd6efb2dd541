import type { PromptRequest } from './request-schema.js';

/** A citation as the API returns it (`char_location` or `content_block_location`). */
export type Citation =
  | {
      type: 'char_location';
      cited_text: string;
      document_index: number;
      document_title: string | null;
      start_char_index: number;
      end_char_index: number;
      file_id: null;
    }
  | {
      type: 'content_block_location';
      cited_text: string;
      document_index: number;
      document_title: string | null;
      start_block_index: number;
      end_block_index: number;
      file_id: null;
    };

type Fields = Record<string, unknown>;

/**
 * The citation the reply carries: the first sentence of the first document that enables
 * citations and has text to quote (a plain-text or content document; PDFs are not read,
 * so they are never cited). `document_index` counts every document of the request in order.
 */
export function citationFor(request: PromptRequest): Citation | undefined {
  const documents = request.messages.flatMap((message) =>
    typeof message.content === 'string'
      ? []
      : (message.content.filter((block) => block.type === 'document') as Fields[]),
  );
  for (const [index, document] of documents.entries()) {
    const enabled = (document.citations as Fields | null | undefined)?.enabled === true;
    const citation = enabled ? citeDocument(document, index) : undefined;
    if (citation) return citation;
  }
  return undefined;
}

function citeDocument(document: Fields, index: number): Citation | undefined {
  const source = document.source as Fields;
  const common = {
    document_index: index,
    document_title: typeof document.title === 'string' ? document.title : null,
    file_id: null,
  };
  if (source.type === 'text' && typeof source.data === 'string' && source.data.trim()) {
    const cited = firstSentence(source.data);
    return {
      type: 'char_location',
      cited_text: cited,
      ...common,
      start_char_index: 0,
      end_char_index: cited.length,
    };
  }
  if (source.type === 'content') {
    const first = firstTextBlock(source.content);
    if (!first) return undefined;
    return {
      type: 'content_block_location',
      cited_text: first.text,
      ...common,
      start_block_index: first.index,
      end_block_index: first.index + 1,
    };
  }
  return undefined;
}

/** Up to and including the first sentence end and the spaces after it, as the API quotes. */
const firstSentence = (text: string) => /^[\s\S]*?[.!?](\s+|$)/.exec(text)?.[0] ?? text;

/** A content document's first text block (a string content is one text block). */
function firstTextBlock(content: unknown): { text: string; index: number } | undefined {
  if (typeof content === 'string') return content ? { text: content, index: 0 } : undefined;
  if (!Array.isArray(content)) return undefined;
  const index = content.findIndex(
    (block: Fields) => block.type === 'text' && typeof block.text === 'string' && block.text,
  );
  return index === -1 ? undefined : { text: (content[index] as Fields).text as string, index };
}
