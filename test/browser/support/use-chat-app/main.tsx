import { useChat } from '@ai-sdk/react';
import { DefaultChatTransport, type UIMessage } from 'ai';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';

/**
 * A front end set up as README's "Use it from a React front end" says, on its own origin. The
 * test gives the function URL and the user's token in the page's query; the chat's id is kept
 * there too, so that a reload comes back to it. README's code is copied as written there, but
 * for the function URL.
 */
const query = new URLSearchParams(location.search);
const functionUrl = query.get('api') ?? '';
const token = query.get('token') ?? '';

// From README: any id useChat would take.
const newChatId = () => crypto.randomUUID();

// From README.
async function storedMessages(chatId: string): Promise<UIMessage[]> {
  const response = await fetch(`${functionUrl}/v1/ui/chat/${chatId}/messages`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(await response.text());
  return (await response.json()).messages; // [] for a new chat
}

// From README.
function unfinished(message: UIMessage | undefined): message is UIMessage {
  return (
    message?.role === 'assistant' && !(message.metadata as { stopReason?: string })?.stopReason
  );
}

// From README.
function resumeRequest(messages: () => UIMessage[]) {
  return ({ api, id }: { api: string; id: string }) => {
    const last = messages().at(-1);
    return { api: `${api}/${id}/stream${unfinished(last) ? `?messageId=${last.id}` : ''}` };
  };
}

// From README.
function answerMayBeGoing(stored: UIMessage[]) {
  const last = stored.at(-1);
  return last?.role === 'user' || unfinished(last);
}

/** The chat named in the URL (a new one named there first), rendered once its messages are read. */
function Page() {
  const [chatId] = useState(() => query.get('chat') ?? newChatId());
  const [stored, setStored] = useState<UIMessage[]>();
  useEffect(() => {
    query.set('chat', chatId);
    history.replaceState(null, '', `?${query}`);
    storedMessages(chatId).then(setStored);
  }, [chatId]);
  return stored ? <Chat chatId={chatId} stored={stored} /> : <p>Opening the chat…</p>;
}

function Chat({ chatId, stored }: { chatId: string; stored: UIMessage[] }) {
  const [input, setInput] = useState('');
  const shown = useRef(stored); // read by the resume as it leaves
  // README's snippet.
  const { id, messages, sendMessage, regenerate, resumeStream, status, error } = useChat({
    id: chatId, // names the conversation (below); omit it for a new one
    messages: stored,
    resume: answerMayBeGoing(stored), // README's reopening: after a reload, the answer still streaming
    transport: new DefaultChatTransport({
      api: `${functionUrl}/v1/ui/chat`,
      headers: () => ({ authorization: `Bearer ${token}` }),
      body: { model: 'claude-sonnet-4-6' }, // optional: model, system, maxTokens
      // Send the question only (the history is the server's): a long chat's messages would
      // outgrow the 6 MB a function URL takes, and every message would then be a 413.
      prepareSendMessagesRequest: ({ id, messages, trigger, messageId, body }) => ({
        body: { ...body, id, messages: messages.slice(-1), trigger, messageId },
      }),
      // README's reopening.
      prepareReconnectToStreamRequest: resumeRequest(() => shown.current),
    }),
  });
  // README's reopening.
  useEffect(() => {
    shown.current = messages;
  }, [messages]);
  // An error with the answer unfinished is a lost connection, not a failure: the answer goes on
  // at the server, so resume it rather than regenerate it.
  const connectionLost = error !== undefined && unfinished(messages.at(-1));
  // README's Send (and Regenerate, Edit) waits for the answer.
  const answering = status === 'submitted' || status === 'streaming';
  const statuses = useStatusesSeen(status);
  const [stopStatus, setStopStatus] = useState<number>();

  const send = (event: FormEvent) => {
    event.preventDefault();
    sendMessage({ text: input });
    setInput('');
  };
  // From README.
  async function stopAnswer() {
    const question = messages.findLast((message) => message.role === 'user');
    if (!question) return;
    return fetch(
      `${functionUrl}/v1/ui/chat/${id}/stop?messageId=${encodeURIComponent(question.id)}`,
      { method: 'POST', headers: { authorization: `Bearer ${token}` } },
    );
  }

  return (
    <main>
      <ol aria-label="Conversation">
        {messages.map((message) => (
          <li
            key={message.id}
            data-role={message.role}
            data-id={message.id}
            data-metadata={JSON.stringify(message.metadata ?? null)}
          >
            <p>{message.parts.map((part) => (part.type === 'text' ? part.text : '')).join('')}</p>
            {message.role === 'user' && (
              <button
                type="button"
                disabled={answering}
                onClick={() => {
                  // README's edit: the question's server id, the composer's text.
                  sendMessage({ text: input, messageId: message.id });
                  setInput('');
                }}
              >
                Edit
              </button>
            )}
          </li>
        ))}
      </ol>
      <p data-testid="status">{status}</p>
      <p data-testid="statuses">{statuses.join(' ')}</p>
      {stopStatus !== undefined && <p data-testid="stop-status">{stopStatus}</p>}
      {error && <p role="alert">{error.message}</p>}
      {/* README's button. */}
      {connectionLost && (
        <button type="button" onClick={() => void resumeStream()}>
          Reconnect
        </button>
      )}
      <form onSubmit={send}>
        <textarea
          aria-label="Message"
          value={input}
          onChange={(event) => setInput(event.target.value)}
        />
        {/* README's button. */}
        <button type="submit" disabled={status === 'submitted' || status === 'streaming'}>
          Send
        </button>
        {/* README's button; the page shows the stop's status. */}
        <button
          type="button"
          onClick={() => void stopAnswer().then((response) => setStopStatus(response?.status))}
          disabled={status !== 'submitted' && status !== 'streaming'}
        >
          Stop
        </button>
        <button type="button" onClick={() => void regenerate()} disabled={answering}>
          Regenerate
        </button>
      </form>
    </main>
  );
}

/** Every status the chat went through, in order, as the user saw them. */
function useStatusesSeen(status: string): string[] {
  const [seen, setSeen] = useState<string[]>([]);
  useEffect(() => setSeen((earlier) => [...earlier, status]), [status]);
  return seen;
}

createRoot(document.getElementById('root')!).render(<Page />);
