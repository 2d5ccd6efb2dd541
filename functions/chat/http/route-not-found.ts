import { type ChatRequestContext, unknownMethodOf } from './chat-router.js';

/** The routes of Anthropic's API served here (each forwards to it, governed). */
const SERVED_ANTHROPIC_ROUTES =
  'POST /v1/messages, POST /v1/messages/count_tokens, GET /v1/models and GET /v1/models/{id}';

/**
 * A path of Anthropic's API (Message Batches, Files, Skills…), or one without `/v1`: what an
 * SDK whose base URL lacks it asks for.
 */
const ANTHROPIC_LIKE_PATH = /^(?!\/v1\/)|^\/v1\/(messages|models|files|skills|complete)(\/|$)/;

/**
 * The message of a 404 for a path no route serves. An Anthropic SDK pointed here has a
 * method for every endpoint of Anthropic's API: its user is told which of them this gateway
 * serves, rather than only that the path is unknown.
 */
export function routeNotFoundMessage(reqCtx: ChatRequestContext): string {
  const method = (unknownMethodOf(reqCtx.event) ?? reqCtx.req.method).slice(0, 32);
  const path = new URL(reqCtx.req.url).pathname.slice(0, 200);
  const served = ANTHROPIC_LIKE_PATH.test(path)
    ? `; of Anthropic's API, only ${SERVED_ANTHROPIC_ROUTES} are`
    : '';
  return `${method} ${path} is not served here${served} (GET /openapi.json lists every route)`;
}
