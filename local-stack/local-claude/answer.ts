import { type Citation, citationFor } from './citations.js';
import { type DirectedStopReason, type Directive, directiveError } from './directives.js';
import { newToolUseId } from './ids.js';
import { thinkingOf } from './models.js';
import { lastToolResultText } from './prompt.js';
import { firstWords, planReply, seededTokens } from './reply.js';
import type { MessagesRequest, Tool } from './request-schema.js';
import {
  DEFAULT_THINKING_TOKENS,
  thinkingAllowance,
  thinkingOmitted,
  thinkingSignature,
  thinksFirst,
} from './thinking.js';
import { estimateTokens } from './tokens.js';
import { isCustomTool } from './tool-checks.js';
import { toolInput } from './tool-input.js';

/** One content block of a reply, decided before the first byte is sent. */
export type AnswerBlock =
  | { type: 'thinking'; words: string[]; tokens: number; omitted: boolean; signature: string }
  | { type: 'text'; words: string[]; citation?: Citation }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

/** A whole reply: its blocks, why it stopped and what it costs. */
export interface Answer {
  blocks: AnswerBlock[];
  /** Every token generated: thinking, text (a stop sequence's included) and tool JSON. */
  outputTokens: number;
  /** The part of `outputTokens` spent thinking (0 without a thinking block). */
  thinkingTokens: number;
  stopReason: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | DirectedStopReason;
  stopSequence: string | null;
  /** `server_tool_use.web_search_requests` to report, when a directive asks for it. */
  webSearches?: number;
}

type Rest = Omit<Answer, 'thinkingTokens' | 'webSearches'>;

/** Words of the prompt (or of a tool result) an echo-like reply starts with. */
const LEAD_WORDS = 8;

/**
 * Plans the reply to a Messages request: a thinking block when thinking is on, then a
 * tool call (forced by `tool_choice`, or asked by `reply=tool`) or the deterministic text.
 * Thinking spends `max_tokens` first, as the API counts it.
 * @param prompt the last user message's text without directives; it seeds every word
 * @throws ApiError 400 when `reply=tool` cannot be honoured
 */
export function planAnswer(request: MessagesRequest, directive: Directive, prompt: string): Answer {
  const toolResults = lastToolResultText(request);
  const seed = toolResults === undefined ? prompt : `${prompt}\n${toolResults}`;
  const webSearches = directive.webSearches;
  const blocks: AnswerBlock[] = [];
  let thinkingTokens = 0;
  const thinking = thinkingOf(request);
  if (thinksFirst(thinking, toolResults !== undefined)) {
    const wanted = directive.thinkingTokens ?? DEFAULT_THINKING_TOKENS;
    thinkingTokens = Math.min(wanted, thinkingAllowance(thinking, request.max_tokens));
    if (thinkingTokens > 0) {
      blocks.push(thinkingBlock(seed, thinkingTokens, thinkingOmitted(thinking)));
    }
  }
  const left = request.max_tokens - thinkingTokens;
  const call = left > 0 ? toolToCall(request, directive, toolResults !== undefined) : undefined;
  const schema = outputSchema(request);
  const rest: Rest =
    left === 0 && thinkingTokens > 0
      ? { blocks: [], outputTokens: 0, stopReason: 'max_tokens', stopSequence: null }
      : call
        ? callTool(call, prompt, left)
        : schema !== undefined
          ? answerJson(schema, prompt, left)
          : answerText(request, directive, { prompt, seed, toolResults }, left);
  return {
    ...rest,
    // Only a reply Claude ended itself: a cut one ends as max_tokens whatever is asked.
    ...(directive.stopReason &&
      rest.stopReason === 'end_turn' && { stopReason: directive.stopReason }),
    blocks: [...blocks, ...rest.blocks],
    outputTokens: thinkingTokens + rest.outputTokens,
    thinkingTokens,
    ...(webSearches !== undefined && { webSearches }),
  };
}

function thinkingBlock(seed: string, tokens: number, omitted: boolean): AnswerBlock {
  const words = seededTokens(`thinking\n${seed}`, tokens);
  return {
    type: 'thinking',
    words: omitted ? [] : words,
    tokens,
    omitted,
    signature: thinkingSignature(words.join('')),
  };
}

interface ToolCall {
  tool: Tool;
  /** Forced by tool_choice: the API prefills the turn, so no text comes before the call. */
  forced: boolean;
}

function toolToCall(
  request: MessagesRequest,
  directive: Directive,
  afterToolResults: boolean,
): ToolCall | undefined {
  if (afterToolResults) return undefined;
  const choice = request.tool_choice;
  const tools = request.tools ?? [];
  if (choice?.type === 'tool') {
    return { tool: tools.find((tool) => tool.name === choice.name)!, forced: true };
  }
  if (choice?.type === 'any') return { tool: pickTool(tools, directive.tool), forced: true };
  if (directive.reply !== 'tool') return undefined;
  if (choice?.type === 'none') throw directiveError('reply=tool contradicts tool_choice none');
  return { tool: pickTool(tools, directive.tool), forced: false };
}

function pickTool(tools: readonly Tool[], name: string | undefined): Tool {
  const tool =
    name === undefined
      ? (tools.find(isCustomTool) ?? tools[0])
      : tools.find((candidate) => candidate.name === name);
  if (!tool) {
    throw directiveError(
      name === undefined ? 'reply=tool needs tools in the request' : `tool=${name} is not in tools`,
    );
  }
  return tool;
}

function callTool({ tool, forced }: ToolCall, prompt: string, left: number): Rest {
  const intro = forced ? [] : ['I', ' will', ' use', ` ${tool.name}.`];
  const input = toolInput(tool.input_schema, firstWords(prompt, LEAD_WORDS * 2));
  const needed = intro.length + estimateTokens(JSON.stringify(input));
  const introBlock = (words: string[]): AnswerBlock[] =>
    words.length > 0 ? [{ type: 'text', words }] : [];
  if (needed > left) {
    // Cut off inside the call: the API would send a truncated tool_use; only the intro fits here.
    return {
      blocks: introBlock(intro.slice(0, left)),
      outputTokens: left,
      stopReason: 'max_tokens',
      stopSequence: null,
    };
  }
  return {
    blocks: [
      ...introBlock(intro),
      { type: 'tool_use', id: newToolUseId(), name: tool.name, input },
    ],
    outputTokens: needed,
    stopReason: 'tool_use',
    stopSequence: null,
  };
}

/** `output_config.format` asking for JSON (structured outputs): the schema the text follows. */
function outputSchema(request: MessagesRequest): unknown {
  const format = (request.output_config as { format?: { type?: unknown; schema?: unknown } })
    ?.format;
  return format?.type === 'json_schema' ? (format.schema ?? {}) : undefined;
}

/**
 * Structured outputs: the text is JSON following the schema, built as a tool input is, one
 * token per 4 characters; max_tokens cuts it mid-JSON, as the API does.
 */
function answerJson(schema: unknown, prompt: string, left: number): Rest {
  const json = JSON.stringify(toolInput(schema, firstWords(prompt, LEAD_WORDS * 2)));
  const tokens = json.match(/[\s\S]{1,4}/g) ?? [];
  const kept = tokens.slice(0, left);
  return {
    blocks: kept.length > 0 ? [{ type: 'text', words: kept }] : [],
    outputTokens: kept.length,
    stopReason: kept.length < tokens.length ? 'max_tokens' : 'end_turn',
    stopSequence: null,
  };
}

function answerText(
  request: MessagesRequest,
  directive: Directive,
  { prompt, seed, toolResults }: { prompt: string; seed: string; toolResults?: string },
  left: number,
): Rest {
  const lead =
    directive.reply === 'echo'
      ? ['Echo:', ...firstWords(prompt, LEAD_WORDS)]
      : toolResults !== undefined
        ? ['Tool', 'result:', ...firstWords(toolResults, LEAD_WORDS)]
        : [];
  const plan = planReply({
    prompt: seed,
    maxTokens: left,
    ...(directive.tokens !== undefined && { length: directive.tokens }),
    lead,
    ...(request.stop_sequences && { stopSequences: request.stop_sequences }),
  });
  return {
    blocks: textBlocks(plan.deltas, citationFor(request)),
    outputTokens: plan.outputTokens,
    stopReason: plan.stopReason,
    stopSequence: plan.stopSequence,
  };
}

/**
 * The text as one block, or, when a document is cited, as the API splits it: the first
 * sentence in a block carrying the citation, the rest in a plain block.
 */
function textBlocks(words: string[], citation: Citation | undefined): AnswerBlock[] {
  if (words.length === 0) return [];
  if (!citation) return [{ type: 'text', words }];
  const end = words.findIndex((word) => word.endsWith('.'));
  const cut = end === -1 ? words.length : end + 1;
  const rest = words.slice(cut);
  return [
    { type: 'text', words: words.slice(0, cut), citation },
    ...(rest.length > 0 ? [{ type: 'text' as const, words: rest }] : []),
  ];
}
