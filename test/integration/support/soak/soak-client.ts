import type { TestStack } from '../test-stack.js';
import type { Answered, SoakLog } from './soak-log.js';

/** A soak client's calls to the stack, each answer's status kept in the log. */
export interface SoakClient {
  /** Sends one request, logged under `route`; `faulted`: it asked for an upstream failure. */
  send(route: string, url: string, init: RequestInit, faulted?: boolean): Promise<Response>;
  /** A request of `userId`, with its bearer token; `extra` headers win. */
  userInit(userId: string, method: string, body?: unknown, extra?: object): Promise<RequestInit>;
}

export function createSoakClient(stack: TestStack, log: SoakLog): SoakClient {
  return {
    async send(route, url, init, faulted = false) {
      const response = await fetch(`${stack.url}${url}`, init);
      const entry: Answered = { route, status: response.status, faulted };
      log.answered.push(entry);
      if (response.status >= 500) entry.body = await response.clone().text();
      return response;
    },
    userInit: async (userId, method, body, extra = {}) => ({
      method,
      headers: {
        authorization: `Bearer ${await stack.token(userId)}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...extra,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    }),
  };
}

/** Text that has local Claude play `text` (a fault, a pace). */
export const directive = (text: string) => `[[local-claude: ${text}]]`;
