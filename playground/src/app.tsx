import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import { ApiError, type ConversationSummary, createApi, type Usage } from './api.js';
import { ChatView } from './chat-view.js';
import { focusLost, focusUnmoved } from './focus.js';
import { type Message, toMessages } from './messages.js';
import { forgetDrafts, unstartedChat } from './use-draft.js';

const TOKEN_KEY = 'playground.token';

/** Where `npm start`'s link points: the local stack. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * On the local stack the token comes in the URL fragment (`#token=…`, never sent to a
 * server, so never in a log), is kept for this tab only, and is taken out of the address
 * bar at once. Elsewhere a fragment token is dropped: a link that signed the reader in as
 * its sender would hand the sender everything the reader then types.
 */
function initialToken(): string {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromFragment !== null) {
    if (LOOPBACK_HOSTS.has(location.hostname)) sessionStorage.setItem(TOKEN_KEY, fromFragment);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/**
 * The open chat is named in the fragment (`#chat=conv_…`), so a reload comes back to it.
 * Only one of our conversation ids is taken: the page also names the chat in
 * `/v1/conversations/{id}`, which takes nothing else (and resolves a `..` away).
 */
function chatInFragment(): string | undefined {
  const id = new URLSearchParams(location.hash.slice(1)).get('chat');
  return id !== null && CONVERSATION_ID.test(id) ? id : undefined;
}

/** What `newChatId` makes and `GET /v1/conversations` lists. */
const CONVERSATION_ID = /^conv_[a-f0-9]{32}$/;

function newChatId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `conv_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export function App() {
  const [token, setToken] = useState(initialToken);
  // Refused (expired, say): the token form shows again, over the chat, which stays as it is.
  const [tokenRefused, setTokenRefused] = useState(false);
  const [draftToken, setDraftToken] = useState('');
  const [conversations, setConversations] = useState<ConversationSummary[]>([]);
  // Where the older conversations, not listed yet, are read from.
  const [olderCursor, setOlderCursor] = useState<string>();
  const [usage, setUsage] = useState<Usage>();
  const [problem, setProblem] = useState<string>();
  const [open, setOpen] = useState<{
    id: string;
    initial: Message[];
    /** Set when the keyboard goes to its composer once shown: where the focus was then. */
    focusComposerFrom?: Element | null;
  }>();
  const composer = useRef<HTMLTextAreaElement>(null);
  const tokenField = useRef<HTMLInputElement>(null);
  const conversationList = useRef<HTMLUListElement>(null);
  // The token was typed into the form (not read from the link or the tab at load).
  const tokenGivenHere = useRef(false);

  const currentToken = useCallback(() => token, [token]);
  const api = useCallback(() => createApi(currentToken), [currentToken])();
  // The chat opened last: a chat clicked before it whose messages come later is not shown.
  const opening = useRef<string>(undefined);
  /** @param focusComposer whether the keyboard then goes to its composer (New chat, a token given) */
  const openChat = useCallback(
    async (id: string, focusComposer = false) => {
      opening.current = id;
      history.replaceState(null, '', `#chat=${id}`);
      const focusComposerFrom = focusComposer ? document.activeElement : undefined;
      try {
        const initial = toMessages(await api.messages(id));
        if (opening.current === id) setOpen({ id, initial, focusComposerFrom });
      } catch (error) {
        if (opening.current === id) setProblem((error as Error).message);
      }
    },
    [api],
  );

  /**
   * The token was refused: the form that takes another shows again, and the keyboard goes to
   * its field. `ifFocusLost`: only when the focus is nowhere (a token just given, whose form
   * went), not from where the person is typing (a list read after an answer, say).
   */
  const askForToken = useCallback((ifFocusLost = false) => {
    flushSync(() => setTokenRefused(true));
    if (!ifFocusLost || focusLost()) tokenField.current?.focus();
  }, []);

  // Whom the chat on screen is for: a token of someone else, pasted over a refused one,
  // must not be shown (or send into) the chat and drafts of the one before.
  const shownFor = useRef<string>(undefined);

  const refresh = useCallback(async () => {
    if (!token) return;
    try {
      const [list, month] = await Promise.all([api.conversations(), api.usage()]);
      if (shownFor.current !== undefined && shownFor.current !== month.userId) {
        forgetDrafts();
        void openChat(unstartedChat(newChatId));
      }
      shownFor.current = month.userId;
      setConversations(list.conversations);
      setOlderCursor(list.nextCursor);
      setUsage(month);
      setProblem(undefined);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) askForToken(true);
      setProblem((error as Error).message);
    }
  }, [api, token, openChat, askForToken]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: once per token
  useEffect(() => {
    if (!token) return;
    void refresh();
    void openChat(chatInFragment() ?? unstartedChat(newChatId), tokenGivenHere.current);
    tokenGivenHere.current = false;
  }, [token]);

  // The chat's composer, not yet there when it was asked for: the chat is read first. Not
  // when the person has put the keyboard somewhere else meanwhile.
  useEffect(() => {
    const from = open?.focusComposerFrom;
    if (from !== undefined && focusUnmoved(from)) composer.current?.focus();
  }, [open]);

  const listOlder = async () => {
    if (olderCursor === undefined) return;
    const pressedOn = document.activeElement;
    try {
      const older = await api.conversations(olderCursor);
      const listedBefore = conversations.length;
      // Rendered now, so that the keyboard can go to the first one listed: the button
      // pressed goes once the last page is listed, and the focus with it.
      flushSync(() => {
        setConversations((listed) => [
          ...listed,
          ...older.conversations.filter((c) => !listed.some((shown) => shown.id === c.id)),
        ]);
        setOlderCursor(older.nextCursor);
      });
      // Not from where the person has put the keyboard while the page was read.
      if (!focusUnmoved(pressedOn)) return;
      conversationList.current
        ?.querySelectorAll<HTMLButtonElement>(':scope > li > button')
        [listedBefore]?.focus();
    } catch (error) {
      setProblem((error as Error).message);
    }
  };

  const saveToken = (event: FormEvent) => {
    event.preventDefault();
    const value = draftToken.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    // The form goes, and the focus with it: the chat's composer takes it once shown.
    tokenGivenHere.current = true;
    setDraftToken('');
    setTokenRefused(false);
    setToken(value);
  };
  const forgetToken = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    forgetDrafts();
    shownFor.current = undefined;
    // Rendered now: the button pressed goes, and the token field it brings back takes the focus.
    flushSync(() => {
      setTokenRefused(false);
      setToken('');
      setOpen(undefined);
      setUsage(undefined);
      setConversations([]);
      setOlderCursor(undefined);
    });
    tokenField.current?.focus();
  };

  return (
    <div className="page">
      <header>
        <h1>Claude playground</h1>
        {token ? (
          <button type="button" onClick={forgetToken}>
            Forget token
          </button>
        ) : null}
      </header>
      {(!token || tokenRefused) && (
        <form className="token" onSubmit={saveToken}>
          <label htmlFor="token">API token (a JWT or a csk_ key)</label>
          <input
            ref={tokenField}
            id="token"
            type="password"
            autoComplete="off"
            value={draftToken}
            onChange={(event) => setDraftToken(event.target.value)}
          />
          <button type="submit">Use token</button>
          <p className="hint">
            Kept in this tab only. Locally, <code>npm start</code> prints a link that fills it in.
          </p>
        </form>
      )}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {token && (
        <div className="layout">
          <nav aria-label="Conversations">
            <button type="button" onClick={() => void openChat(unstartedChat(newChatId), true)}>
              New chat
            </button>
            <ul ref={conversationList}>
              {conversations.map((conversation) => (
                <li key={conversation.id}>
                  <button
                    type="button"
                    dir="auto"
                    aria-current={conversation.id === open?.id ? 'true' : undefined}
                    onClick={() => void openChat(conversation.id)}
                  >
                    {conversation.title || 'Untitled'}
                  </button>
                </li>
              ))}
            </ul>
            {olderCursor !== undefined && (
              <button type="button" onClick={() => void listOlder()}>
                Older conversations
              </button>
            )}
            {usage && <UsageMeter usage={usage} />}
          </nav>
          <main>
            {open && (
              <ChatView
                key={open.id}
                id={open.id}
                initial={open.initial}
                composer={composer}
                token={currentToken}
                api={api}
                onAnswered={() => void refresh()}
                onTokenRefused={() => askForToken()}
              />
            )}
          </main>
        </div>
      )}
    </div>
  );
}

function UsageMeter({ usage }: { usage: Usage }) {
  const spent = `$${usage.costUsd.toFixed(4)}`;
  const budget = `$${usage.budgetUsd.toFixed(2)}`;
  return (
    <section className="usage" aria-label="Usage this month">
      <label htmlFor="usage-meter">
        {usage.month}: {spent} of {budget} spent
      </label>
      <meter
        id="usage-meter"
        min={0}
        max={usage.budgetUsd}
        value={usage.costUsd}
        high={usage.budgetUsd * 0.8}
        optimum={0}
      >
        {spent} of {budget}
      </meter>
      <p>
        ${usage.remainingUsd.toFixed(4)} left · {usage.requests} requests
      </p>
      {usage.apiKey && <KeyUsage usage={usage.apiKey} />}
    </section>
  );
}

/** A key's own budget binds as well as its principal's: a call must fit both. */
function KeyUsage({ usage }: { usage: NonNullable<Usage['apiKey']> }) {
  const spent = `$${usage.costUsd.toFixed(4)}`;
  return (
    <p>
      This key:{' '}
      {usage.budgetUsd === undefined
        ? `${spent} spent`
        : `${spent} of $${usage.budgetUsd.toFixed(2)} spent · $${(usage.remainingUsd ?? 0).toFixed(4)} left`}
    </p>
  );
}
