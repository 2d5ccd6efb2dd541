import { useChat } from '@ai-sdk/react';
import { DefaultChatTransport } from 'ai';
import {
  type FormEvent,
  Fragment,
  type KeyboardEvent,
  type RefObject,
  useCallback,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
} from 'react';
import type { UiMessageMetadata } from '../../functions/chat/protocols/ui-message-metadata.js';
import {
  type Api,
  chatErrorMessage,
  connectionLost,
  refusedByServer,
  tokenRefused,
} from './api.js';
import { type Message, textOf } from './messages.js';
import { chatStarted, useDraft } from './use-draft.js';
import { useRetryWhileLost } from './use-retry-while-lost.js';
import { useStopAnswer } from './use-stop-answer.js';
import { composing, useStopKey } from './use-stop-key.js';
import { useStoredConversation } from './use-stored-conversation.js';

/** Resumes that each end `interrupted` before the page stops and shows what is stored. */
const MAX_RESUMES_IN_A_ROW = 5;

/** One conversation on `useChat`: its messages, the answer as it streams, Stop, and errors. */
export function ChatView(props: {
  id: string;
  initial: Message[];
  /** The composer's element: the page puts the keyboard there when it opens a chat for typing. */
  composer: RefObject<HTMLTextAreaElement | null>;
  token: () => string;
  api: Api;
  onAnswered: () => void;
  /** The token was refused: the page asks for another, keeping this chat and its composer. */
  onTokenRefused: () => void;
}) {
  const { id, composer, token, api, onAnswered, onTokenRefused } = props;
  /** How the last stream read ended: `interrupted`, a resume told to resume again. */
  const finishedAs = useRef<string | undefined>(undefined);
  const transport = useMemo(
    () =>
      new DefaultChatTransport<Message>({
        api: '/v1/ui/chat',
        headers: () => ({ authorization: `Bearer ${token()}` }),
        // The history is the server's: only the question is sent, so a long chat never
        // outgrows the 6 MB request a function URL takes.
        prepareSendMessagesRequest: ({ id, messages, trigger, messageId, body }) => ({
          body: { ...body, id, messages: messages.slice(-1), trigger, messageId },
        }),
      }),
    [token],
  );
  const {
    messages,
    setMessages,
    sendMessage,
    regenerate,
    resumeStream,
    status,
    error,
    clearError,
  } = useChat<Message>({
    id,
    messages: props.initial,
    transport,
    onFinish: ({ finishReason }) => {
      finishedAs.current = finishReason;
      onAnswered();
    },
    onError: (failure) => {
      onAnswered();
      if (tokenRefused(failure)) onTokenRefused();
      if (refusedByServer(failure)) void takeBackRefused();
    },
  });
  const [draft, setDraft] = useDraft(id);
  const { sending, answerStarted, giveBackUnstored, showStored, takeBackRefused } =
    useStoredConversation({
      api,
      chatId: id,
      setMessages,
      // Ahead of anything typed since it was sent.
      giveBack: (question) =>
        setDraft((typed) => (typed.trim() === '' ? question : `${question}\n${typed}`)),
    });
  const shown = useRef(messages);
  shown.current = messages;
  /**
   * Picks up the answer still streaming (GET /v1/ui/chat/{id}/stream), again while the
   * server says the answer goes on (its read ran out of time, or failed). One that ended
   * after the conversation was read gets a 204: the part of it shown then (or none, only
   * its question) gives way to the stored answer, whole.
   */
  const resumeAnswer = async () => {
    for (let resumes = 0; resumes < MAX_RESUMES_IN_A_ROW; resumes++) {
      finishedAs.current = undefined;
      await resumeStream();
      if (finishedAs.current !== 'interrupted') break;
    }
    if (mayBeAnswering(shown.current)) await showStored();
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: once per chat (keyed by its id), as after a reload
  useEffect(() => {
    giveBackUnstored(props.initial);
    // Only when an answer may be going: useChat sets the chat `ready` when a resume finds
    // nothing, which would wipe the error (or the wait) of a question sent meanwhile.
    // A failed read leaves the part shown; a lost connection is tried again below.
    if (mayBeAnswering(props.initial)) resumeAnswer().catch(() => undefined);
  }, []);
  // The server went on: once back, the conversation is opened again as a reload would.
  useRetryWhileLost(error !== undefined && connectionLost(error), async () => {
    const stored = await showStored();
    if (stored === undefined) return;
    clearError();
    if (mayBeAnswering(stored)) await resumeAnswer();
    onAnswered();
  });
  const inputId = useId();
  const busy = status === 'submitted' || status === 'streaming';
  const last = messages.at(-1);
  const answered = last?.role === 'assistant';
  // biome-ignore lint/correctness/useExhaustiveDependencies: when an answer shows up last
  useEffect(() => {
    if (!answered) return;
    // The question asked last has its answer begun: the server stored them.
    answerStarted();
    chatStarted(id);
  }, [answered]);
  // An answer cut off on this page may be whole on the server: regenerating it would replace it.
  const regenerable = !busy && answered && last.metadata?.stopReason !== undefined;
  // While busy, an answer last is the one being written: a question's has not started yet.
  const { stop, stopError } = useStopAnswer(
    api,
    id,
    busy && answered ? last.id : undefined,
    busy ? messages.findLast((message) => message.role === 'user')?.id : undefined,
  );
  const endedHere = useAnswerEndedHere(busy, answered ? last.id : undefined);
  const alertText = stopError ?? (error && chatErrorMessage(error));
  // The answer shown last failed for the reason the alert would say: its facts say it, as
  // the alert, once on the page (after a reload its facts alone say it, as no alert is).
  const alertInAnswer =
    stopError === undefined &&
    alertText !== undefined &&
    answered &&
    saysFailure(alertText, last.metadata?.error?.message);

  /**
   * The ref of a button the answer's start or end takes away (Stop, Regenerate): the focus
   * it has then goes to the composer, not back to the page's start, where a keyboard's
   * place would be lost.
   */
  const focusComposerAfter = useCallback(
    (button: HTMLButtonElement | null) => () => {
      if (button !== null && document.activeElement === button) composer.current?.focus();
    },
    [composer],
  );

  const send = (event?: FormEvent) => {
    event?.preventDefault();
    // Blank lines around it go; the first line's indentation stays (pasted code keeps its shape).
    const text = draft.replace(/^\s*\n/, '').trimEnd();
    if (!text.trim() || busy) return;
    clearError();
    sending({ text, shownBefore: messages.length });
    setDraft('');
    // Sent with the button, which is disabled now.
    composer.current?.focus();
    void sendMessage({ text });
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !composing(event.nativeEvent)) send(event);
  };
  useStopKey(busy, stop);
  const again = () => {
    clearError();
    sending();
    void regenerate();
  };

  return (
    <section className="chat" aria-label="Conversation">
      {/*
        Not a live region (role=log with aria-busy while an answer streams, as WAI-ARIA has it
        for a chat): screen readers that ignore aria-busy would read the answer token by token,
        and NVDA, which honours it, says nothing once it clears
        (https://github.com/nvaccess/nvda/issues/20871). The status line says the end.
      */}
      <ol className="messages">
        {messages.map((message) => (
          <li key={message.id} className={`message ${message.role}`}>
            <span className="role">{message.role === 'user' ? 'You' : 'Claude'}</span>
            {/* dir=auto: a message in Arabic or Hebrew reads right to left, its punctuation in place. */}
            <div
              className="text"
              dir="auto"
              data-testid={message.role === 'assistant' ? 'answer' : undefined}
            >
              {textOf(message)}
            </div>
            {message.role === 'assistant' && (
              <AnswerFacts
                metadata={message.metadata}
                alert={alertInAnswer && message.id === last.id}
              />
            )}
          </li>
        ))}
      </ol>
      <p className="status" role="status" aria-live="polite">
        {busy
          ? STATUS_TEXT[status]
          : answered &&
            last.id === endedHere &&
            last.metadata?.stopReason &&
            endedText(last.metadata.stopReason)}
      </p>
      {alertText !== undefined && !alertInAnswer && (
        <p className="error" role="alert">
          {alertText}
        </p>
      )}
      <form className="composer" onSubmit={send}>
        <label htmlFor={inputId}>Message</label>
        <textarea
          ref={composer}
          id={inputId}
          value={draft}
          rows={3}
          dir="auto"
          placeholder="Ask Claude something (Enter sends, Shift+Enter for a new line, Esc stops an answer)"
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <div className="actions">
          <button type="submit" disabled={busy || draft.trim() === ''}>
            Send
          </button>
          {busy && (
            <button
              type="button"
              ref={focusComposerAfter}
              onClick={stop}
              aria-keyshortcuts="Escape"
              title="Stop (Esc)"
            >
              Stop
            </button>
          )}
          {regenerable && (
            <button type="button" ref={focusComposerAfter} onClick={again}>
              Regenerate
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

/**
 * @param alert the answer failed on this page, now: how it ended is the page's alert (a
 *   new element, so that screen readers announce it)
 */
function AnswerFacts({
  metadata,
  alert,
}: {
  metadata: UiMessageMetadata | undefined;
  alert: boolean;
}) {
  if (!metadata?.stopReason) return null;
  const label = STOP_LABELS[metadata.stopReason] ?? metadata.stopReason;
  // Why it failed stays with the answer: a reopened chat has no error of the stream to show.
  const ended = metadata.error ? `${label}: ${metadata.error.message}` : label;
  const facts = [
    metadata.model,
    ended,
    metadata.usage &&
      `${metadata.usage.inputTokens} in / ${metadata.usage.outputTokens} out tokens`,
    metadata.costUsd !== undefined && `$${metadata.costUsd.toFixed(6)}`,
  ].filter((fact): fact is string => typeof fact === 'string' && fact !== '');
  return (
    <p className="facts" data-testid="answer-facts">
      {facts.map((fact, index) => (
        <Fragment key={fact}>
          {index > 0 && ' · '}
          {fact === ended ? (
            <span key={alert ? 'alert' : 'fact'} role={alert ? 'alert' : undefined}>
              {fact}
            </span>
          ) : (
            fact
          )}
        </Fragment>
      ))}
    </p>
  );
}

/** Whether `messages` end with a question, or an answer without its end: one may be streaming. */
function mayBeAnswering(messages: Message[]): boolean {
  const last = messages.at(-1);
  return last !== undefined && (last.role === 'user' || last.metadata?.stopReason === undefined);
}

/** Whether an alert says the failure `reason` (`The answer failed: …`, or the refusal's own words). */
function saysFailure(alert: string, reason: string | undefined): boolean {
  return reason !== undefined && (alert === reason || alert.endsWith(`: ${reason}`));
}

const STATUS_TEXT: Record<ReturnType<typeof useChat>['status'], string> = {
  submitted: 'Waiting for Claude…',
  streaming: 'Claude is answering…',
  ready: '',
  error: '',
};

/**
 * The answer that ended on this page since it was opened (the one shown last when the
 * request ended): the status line then says how, which a screen reader announces (the
 * answer's own facts below it are not live). A request refused before any answer began
 * ended none, though the stored conversation read after it shows an earlier answer last.
 * Taken in the render that ends the request, so the line never goes blank in between.
 */
function useAnswerEndedHere(busy: boolean, lastAnswerId: string | undefined) {
  const [wasBusy, setWasBusy] = useState(busy);
  const [endedId, setEndedId] = useState<string>();
  if (busy !== wasBusy) {
    setWasBusy(busy);
    setEndedId(busy ? undefined : lastAnswerId);
  }
  return endedId;
}

function endedText(stopReason: string): string {
  return `Answer ${STOP_LABELS[stopReason] ?? stopReason}.`;
}

const STOP_LABELS: Record<string, string> = {
  end_turn: 'complete',
  max_tokens: 'cut at max tokens',
  model_context_window_exceeded: 'cut at the context window',
  stopped: 'stopped',
  timeout: 'timed out',
  interrupted: 'interrupted',
  error: 'failed',
};
