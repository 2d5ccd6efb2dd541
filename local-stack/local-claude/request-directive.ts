import { DIRECTIVE_HEADER, type Directive, parseDirective } from './directives.js';
import type { Exchange } from './exchange.js';
import { faultError } from './fault-error.js';
import { untilAborted } from './pacing.js';
import { directivesIn, lastUserText, withoutDirectives } from './prompt.js';
import type { PromptRequest } from './request-schema.js';
import type { LocalClaudeService } from './service.js';
import type { MidStreamFault } from './stream.js';

/** What a test asked of one request, once the faults that come before any answer are out of the way. */
export interface DirectedRequest {
  directive: Directive;
  /** A fault that breaks the answer itself, if one fires for this request. */
  fault: MidStreamFault | undefined;
  /** The last user message's text without directives, whitespace collapsed: it seeds the words. */
  prompt: string;
}

/**
 * Reads the directive (message text first, then the header) and fires the faults that
 * come before an answer.
 * @returns undefined once a `hang` fault ends (the client gave up): nothing left to answer
 * @throws ApiError for an `error-before` fault or a bad directive
 */
export async function directRequest(
  exchange: Exchange,
  request: PromptRequest,
  service: LocalClaudeService,
): Promise<DirectedRequest | undefined> {
  const text = lastUserText(request);
  const header = exchange.record.headers[DIRECTIVE_HEADER] ?? '';
  const directive = parseDirective([...directivesIn(text), header]);
  const fault = service.faults.select(directive, request.model);
  if (fault?.kind === 'error-before') throw faultError(fault);
  if (fault?.kind === 'hang') {
    await untilAborted(exchange.signal);
    return undefined;
  }
  const prompt = withoutDirectives(text).replace(/\s+/g, ' ').trim();
  return { directive, fault, prompt };
}
