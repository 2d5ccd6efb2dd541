import type { ContextOverflow } from '../../domain/errors.js';

/**
 * The Anthropic API's words for a prompt longer than the model's context window, in both the
 * forms it has used: the prompt alone over it, and the prompt with `max_tokens` over it.
 * https://docs.anthropic.com/en/docs/build-with-claude/context-windows
 */
const PROMPT_TOO_LONG = /^prompt is too long: (\d{1,9}) tokens > (\d{1,9}) maximum$/;
const PROMPT_AND_ANSWER_TOO_LONG =
  /^input length and `max_tokens` exceed context limit: (\d{1,9}) \+ \d{1,9} > (\d{1,9}), decrease input length or `max_tokens` and try again$/;

/**
 * Why the Anthropic API refused a request (its 400 `invalid_request_error`), in our words, when
 * its message is one it sends about the prompt's length: what the caller's document or
 * conversation can be changed for. Only the token counts are taken from it. Any other message
 * gives undefined: an API message may speak of the deployment's account ("Your credit balance
 * is too low…"), of its settings (a `max_tokens` too large for a model) or quote the request
 * we built, none of which is the caller's to read; the log keeps it (`UpstreamFailure`).
 */
export function refusalReason(apiMessage: string | undefined): string | undefined {
  const overflow = contextOverflowOf(apiMessage);
  if (!overflow) return undefined;
  const { promptTokens, contextTokens, withAnswer } = overflow;
  return withAnswer
    ? `the prompt is ${promptTokens} tokens, too long for the model's ${contextTokens} with room for its answer`
    : `the prompt is ${promptTokens} tokens, more than the model's ${contextTokens}`;
}

/** The token counts of the API's refusal of a prompt too long for the model, when it is one. */
export function contextOverflowOf(
  apiMessage: string | undefined,
): (ContextOverflow & { withAnswer: boolean }) | undefined {
  const said = apiMessage?.trim() ?? '';
  const alone = PROMPT_TOO_LONG.exec(said);
  const withAnswer = alone ? undefined : PROMPT_AND_ANSWER_TOO_LONG.exec(said);
  const counts = alone ?? withAnswer;
  if (!counts) return undefined;
  return {
    promptTokens: Number(counts[1]),
    contextTokens: Number(counts[2]),
    withAnswer: withAnswer !== undefined,
  };
}
