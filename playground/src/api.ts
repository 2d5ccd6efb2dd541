/** The function URL's JSON routes the page uses, with errors made readable. */

export interface ConversationSummary {
  id: string;
  title: string;
  updatedAt: string;
  messageCount: number;
}

export interface StoredMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  model?: string;
  stopReason?: string;
  usage?: { inputTokens: number; outputTokens: number };
  costUsd?: number;
  /** Why a failed answer failed, as its stream told it. */
  error?: { type: string; message: string; retryable: boolean };
}

export interface Usage {
  /** Who the token is. */
  userId: string;
  month: string;
  costUsd: number;
  budgetUsd: number;
  remainingUsd: number;
  requests: number;
  /** With an API key for a token: the key's own month, whose budget (if any) binds too. */
  apiKey?: { costUsd: number; budgetUsd?: number; remainingUsd?: number };
}

/** An error response of the API, or a network failure, as a person should read it. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly type: string,
  ) {
    super(message);
  }
}

export function createApi(token: () => string) {
  async function call<T>(method: string, path: string): Promise<T | undefined> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers: { authorization: `Bearer ${token()}` },
      });
    } catch {
      throw new ApiError('The server could not be reached. Check your connection.', 0, 'network');
    }
    if (response.status === 204) return undefined;
    const text = await response.text();
    if (!response.ok) throw apiError(response.status, text);
    return JSON.parse(text) as T;
  }
  return {
    /** A page of them, newest activity first; `nextCursor` reads the older ones. */
    conversations: async (cursor?: string) => {
      const page = await call<{ conversations: ConversationSummary[]; nextCursor?: string }>(
        'GET',
        `/v1/conversations?limit=50${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      return { conversations: page?.conversations ?? [], nextCursor: page?.nextCursor };
    },
    /** All its messages, page after page (oldest first), or none for a chat not started yet. */
    messages: async (id: string) => {
      const messages: StoredMessage[] = [];
      let cursor: string | undefined;
      try {
        do {
          const page = await call<{ messages: StoredMessage[]; nextCursor?: string }>(
            'GET',
            `/v1/conversations/${encodeURIComponent(id)}?limit=100${
              cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`
            }`,
          );
          messages.push(...(page?.messages ?? []));
          cursor = page?.nextCursor;
        } while (cursor !== undefined);
        return messages;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return [];
        throw error;
      }
    },
    usage: async () => (await call<Usage>('GET', '/v1/usage'))!,
    /**
     * Stops the answer to the question `questionId` names (its id in the chat), started or
     * not: before its start too, while Claude has not answered yet.
     */
    stopQuestion: (chatId: string, questionId: string) =>
      call(
        'POST',
        `/v1/ui/chat/${encodeURIComponent(chatId)}/stop?messageId=${encodeURIComponent(questionId)}`,
      ),
    /** Stops the answer `messageId` names, if it is still being written. */
    stop: (id: string, messageId: string) =>
      call(
        'POST',
        `/v1/conversations/${encodeURIComponent(id)}/stop?messageId=${encodeURIComponent(messageId)}`,
      ),
  };
}

export type Api = ReturnType<typeof createApi>;

/** Our error body `{"type":"error","error":{type,message}}` → a sentence and what to do. */
export function apiError(status: number, body: string): ApiError {
  let type = 'api_error';
  let message = markup(body) ? pageAnswer(status, body) : body || `The server answered ${status}.`;
  try {
    const parsed = JSON.parse(body) as { error?: { type?: string; message?: string } };
    type = parsed.error?.type ?? type;
    message = parsed.error?.message ?? message;
  } catch {
    // Not our JSON (a proxy's page): keep the text, or a page's title.
  }
  return new ApiError(readable(type, message), status, type);
}

const markup = (body: string) => /^\s*</.test(body);

/** A proxy's or a gateway's HTML error page, said as its status and title, not as its markup. */
function pageAnswer(status: number, page: string): string {
  const title = new DOMParser().parseFromString(page, 'text/html').title.trim();
  return `The server answered ${status}${title ? ` (${title})` : ''}, not from this API: a proxy or gateway in between?`;
}

function readable(type: string, message: string): string {
  switch (type) {
    case 'billing_error':
      return `Your monthly budget is used up (${message}). It starts again on the 1st (UTC); an admin can raise it.`;
    case 'authentication_error':
      return `The token was refused (${message}). Paste a valid token above.`;
    case 'rate_limit_error':
      return `Too many requests right now (${message}). Wait a moment and try again.`;
    case 'conflict_error':
      return `An answer is still being written in this conversation (${message}).`;
    case 'overloaded_error':
      return `Claude is overloaded right now (${message}). Try again in a moment.`;
    default:
      return message;
  }
}

/** An error of `useChat` that is an error response of the server: no answer began. */
export function refusedByServer(error: Error): boolean {
  return typeof statusOf(error) === 'number';
}

/** An error of `useChat` that is the token refused (expired, say): a new one is needed. */
export function tokenRefused(error: Error): boolean {
  return statusOf(error) === 401;
}

function statusOf(error: Error): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** An error of `useChat` that is the connection lost: the server goes on with the answer. */
export function connectionLost(error: Error): boolean {
  return statusOf(error) === undefined && error instanceof TypeError;
}

/** An error of `useChat` (the transport puts the response body in the message) made readable. */
export function chatErrorMessage(error: Error): string {
  const status = statusOf(error);
  if (typeof status === 'number') {
    const body = (error as { responseBody?: string }).responseBody ?? error.message;
    return apiError(status, body).message;
  }
  if (connectionLost(error)) return 'The connection was lost before the answer ended.';
  return `The answer failed: ${error.message}`;
}
