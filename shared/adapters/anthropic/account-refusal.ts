/**
 * The Anthropic API's words when the deployment's account has no credit left. It sends them
 * as a 400 `invalid_request_error`, not a 402 `billing_error`
 * (anthropics/anthropic-sdk-typescript#618): by status and type alone, the caller's own bad
 * request, which no alarm counts. Its message begins with them: anywhere else they are the
 * caller's own, quoted back (a 400 echoes a content block's unknown `type`, say).
 */
const OUT_OF_CREDIT = /^\s*Your credit balance is too low\b/i;

/**
 * Whether the API refused the deployment's account rather than the request: its 402, or the
 * 400 it sends for an account out of credit. Either way an operator must act, and the caller's
 * request is fine.
 */
export function refusesTheAccount(status: number | undefined, apiMessage: unknown): boolean {
  return status === 402 || (typeof apiMessage === 'string' && OUT_OF_CREDIT.test(apiMessage));
}
