import { invalidRequest } from './errors.js';
import type { ContentBlock, PromptRequest, Tool } from './request-schema.js';
import { thinkingIsOn } from './thinking.js';

/** A custom tool: one the client runs, described by an `input_schema`. */
export const isCustomTool = (tool: Tool) => tool.type == null || tool.type === 'custom';

/** Whether `tool_choice` makes the model call a tool. */
export const forcesTool = (request: PromptRequest) =>
  request.tool_choice?.type === 'any' || request.tool_choice?.type === 'tool';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;

/**
 * Checks `tools` and `tool_choice` like the API.
 * @throws ApiError 400 `invalid_request_error`
 */
export function checkTools(request: PromptRequest): void {
  const tools = request.tools ?? [];
  const names = new Set<string>();
  tools.forEach((tool, index) => {
    if (isCustomTool(tool)) checkCustomTool(tool, `tools.${index}.custom`);
    if (names.has(tool.name)) throw invalidRequest('tools: Tool names must be unique.');
    names.add(tool.name);
  });
  const choice = request.tool_choice;
  if (!choice) return;
  if (tools.length === 0) {
    throw invalidRequest('tool_choice may only be specified while providing tools');
  }
  if (choice.type === 'tool' && !names.has(choice.name)) {
    throw invalidRequest(`Tool '${choice.name}' not found in provided tools`);
  }
  if (forcesTool(request) && thinkingIsOn(request.thinking)) {
    throw invalidRequest('Thinking may not be enabled when tool_choice forces tool use.');
  }
}

function checkCustomTool(tool: Tool, at: string): void {
  if (tool.name.length === 0)
    throw invalidRequest(`${at}.name: String should have at least 1 character`);
  if (tool.name.length > 128) {
    throw invalidRequest(`${at}.name: String should have at most 128 characters`);
  }
  if (!TOOL_NAME.test(tool.name)) {
    throw invalidRequest(`${at}.name: String should match pattern '${TOOL_NAME.source}'`);
  }
  const schema = tool.input_schema;
  if (schema === undefined) throw invalidRequest(`${at}.input_schema: Field required`);
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw invalidRequest(`${at}.input_schema: Input should be a valid dictionary`);
  }
  if ((schema as { type?: unknown }).type !== 'object') {
    throw invalidRequest(`${at}.input_schema.type: Input should be 'object'`);
  }
}

/** Consecutive messages of one role, which the API merges into one turn. */
interface Turn {
  role: 'user' | 'assistant';
  blocks: Array<{ block: ContentBlock; message: number; index: number }>;
}

/**
 * Checks the tool-use protocol across turns: every `tool_use` answered by a `tool_result`
 * at the start of the next user turn, every `tool_result` answering a `tool_use` of the
 * turn before, and (with thinking on) a tool loop's last assistant turn opening with thinking.
 * @throws ApiError 400 `invalid_request_error` with the API's messages
 */
export function checkToolTurns(request: PromptRequest): void {
  const turns = turnsOf(request);
  turns.forEach((turn, index) => {
    if (turn.role === 'assistant') checkAnswered(turn, turns[index + 1]);
    else checkResultsAnswer(turn, turns[index - 1]);
  });
  const last = turns.at(-1);
  const previous = turns.at(-2);
  if (thinkingIsOn(request.thinking) && last?.role === 'user' && previous && hasResults(last)) {
    checkOpensWithThinking(previous);
  }
}

function checkAnswered(turn: Turn, next: Turn | undefined): void {
  const uses = turn.blocks.filter(({ block }) => block.type === 'tool_use');
  if (uses.length === 0) return;
  const answered = new Set(next ? leadingResultIds(next) : []);
  const missing = uses.filter(({ block }) => !answered.has(String(block.id)));
  const first = missing[0];
  if (!first) return;
  const ids = missing.map(({ block }) => String(block.id)).join(', ');
  throw invalidRequest(
    `messages.${first.message}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${ids}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
  );
}

function checkResultsAnswer(turn: Turn, previous: Turn | undefined): void {
  const used = new Set(
    (previous?.blocks ?? [])
      .filter(({ block }) => block.type === 'tool_use')
      .map(({ block }) => String(block.id)),
  );
  for (const { block, message, index } of turn.blocks) {
    if (block.type !== 'tool_result' || used.has(String(block.tool_use_id))) continue;
    throw invalidRequest(
      `messages.${message}.content.${index}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
    );
  }
}

function checkOpensWithThinking(turn: Turn): void {
  const first = turn.blocks[0];
  if (!first || first.block.type === 'thinking' || first.block.type === 'redacted_thinking') return;
  throw invalidRequest(
    `messages.${first.message}.content.${first.index}.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first.block.type}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking`,
  );
}

/** The ids answered by the `tool_result` blocks a user turn opens with. */
function leadingResultIds(turn: Turn): string[] {
  const ids: string[] = [];
  for (const { block } of turn.blocks) {
    if (block.type !== 'tool_result') break;
    ids.push(String(block.tool_use_id));
  }
  return ids;
}

const hasResults = (turn: Turn) => turn.blocks.some(({ block }) => block.type === 'tool_result');

function turnsOf(request: PromptRequest): Turn[] {
  const turns: Turn[] = [];
  request.messages.forEach((message, messageIndex) => {
    // An instruction between turns, not a turn of its own.
    if (message.role === 'system') return;
    const blocks: ContentBlock[] =
      typeof message.content === 'string'
        ? [{ type: 'text', text: message.content }]
        : message.content;
    let turn = turns.at(-1);
    if (turn?.role !== message.role) {
      turn = { role: message.role, blocks: [] };
      turns.push(turn);
    }
    turn.blocks.push(...blocks.map((block, index) => ({ block, message: messageIndex, index })));
  });
  return turns;
}
