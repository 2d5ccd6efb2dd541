import { beforeEach, describe, expect, it } from 'vitest';
import { ModelError, type ModelErrorKind } from '../../shared/domain/errors.js';
import type {
  Model,
  ModelRequest,
  ModelStream,
  ModelStreamEvent,
} from '../../shared/ports/model.js';
import type { ModelScript } from '../fakes/scripted-model.js';

export interface ModelSubject {
  model: Model;
  /**
   * A request whose one call follows `script`: the scripted model is given the script,
   * the real model reads it as local-Claude directives in the prompt.
   */
  requestFor(script: ModelScript, fields?: Partial<ModelRequest>): ModelRequest;
}

/** The request every case starts from; `requestFor` adds the script (and `fields`). */
export function contractRequest(fields: Partial<ModelRequest> = {}): ModelRequest {
  return {
    model: 'claude-sonnet-4-6',
    system: [{ text: 'Answer briefly.' }],
    messages: [{ role: 'user', blocks: [{ text: 'Tell me about the cloud.' }] }],
    maxTokens: 100,
    // One attempt: a retry would turn each scripted failure into a second call.
    maxRetries: 0,
    ...fields,
  };
}

/** Long enough for a request to be on its way before its signal aborts. */
const ABORT_AFTER_MS = 50;

async function consume(stream: ModelStream, onEvent?: (event: ModelStreamEvent) => void) {
  const events: ModelStreamEvent[] = [];
  let error: unknown;
  try {
    for await (const event of stream) {
      events.push(event);
      onEvent?.(event);
    }
  } catch (caught) {
    error = caught;
  }
  const texts = events.flatMap((event) => (event.type === 'text' ? [event.text] : []));
  return { events, texts, error };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

/**
 * The Model port's behaviour, for the scripted model and the Anthropic adapter on the
 * local Claude. Each case is a script, so the same assertions hold on both sides.
 */
export function modelContract(subject: () => Promise<ModelSubject>) {
  let model: Model;
  let requestFor: ModelSubject['requestFor'];
  beforeEach(async () => {
    ({ model, requestFor } = await subject());
  });

  describe('openStream', () => {
    it('streams the text chunks, then the final usage, then the stop reason', async () => {
      const request = requestFor({ kind: 'answer', chunks: 3 });

      const stream = await model.openStream(request);
      const { events, texts, error } = await consume(stream);

      expect(error).toBeUndefined();
      expect(events.map((event) => event.type)).toEqual(['text', 'text', 'text', 'usage', 'stop']);
      expect(texts.every((text) => text.length > 0)).toBe(true);
      expect(events.at(-1)).toEqual({ type: 'stop', stopReason: 'end_turn' });
      expect(stream.model).toBe(request.model);
    });

    it('tells that Claude thinks before it answers, and when its thinking ends, before the text', async () => {
      // A model that thinks unasked, showing nothing of it, as the newest do.
      const request = requestFor(
        { kind: 'answer', chunks: 2, thinks: true },
        { model: 'claude-opus-5-5' },
      );

      const { events, texts, error } = await consume(await model.openStream(request));

      expect(error).toBeUndefined();
      const kinds = events.map((event) => event.type);
      expect(kinds[0]).toBe('thinking');
      // However many thinking events, then its end once, before the first text.
      expect(kinds.filter((kind) => kind !== 'thinking')).toEqual([
        'thought',
        'text',
        'text',
        'usage',
        'stop',
      ]);
      expect(kinds.lastIndexOf('thinking')).toBeLessThan(kinds.indexOf('thought'));
      expect(texts).toHaveLength(2);
    });

    it('reports the input tokens when the answer starts and one output token per chunk at the end', async () => {
      const stream = await model.openStream(requestFor({ kind: 'answer', chunks: 4 }));

      const { events } = await consume(stream);

      expect(stream.initialUsage.inputTokens).toBeGreaterThan(0);
      expect(events.find((event) => event.type === 'usage')).toEqual({
        type: 'usage',
        usage: { ...stream.initialUsage, outputTokens: 4 },
      });
    });

    it('cuts an answer longer than maxTokens, with stop reason max_tokens', async () => {
      const stream = await model.openStream(
        requestFor({ kind: 'answer', chunks: 5 }, { maxTokens: 3 }),
      );

      const { events, texts } = await consume(stream);

      expect(texts).toHaveLength(3);
      expect(events.slice(-2)).toEqual([
        { type: 'usage', usage: expect.objectContaining({ outputTokens: 3 }) },
        { type: 'stop', stopReason: 'max_tokens' },
      ]);
    });

    it.each<ModelErrorKind>([
      'overloaded',
      'rate_limited',
      'api_error',
      'invalid_request',
      'authentication',
      'model_unavailable',
    ])(
      'rejects with a ModelError of kind %s when the call fails before the answer starts',
      async (kind) => {
        const error = await failure(
          model.openStream(requestFor({ kind: 'fail-before', error: kind })),
        );

        expect(error).toBeInstanceOf(ModelError);
        expect(error).toMatchObject({ kind });
      },
    );

    it('ends with a ModelError of kind overloaded after the 2 chunks sent before an error mid-stream', async () => {
      const stream = await model.openStream(
        requestFor({ kind: 'fail-mid', chunks: 2, error: 'overloaded' }),
      );

      const { events, error } = await consume(stream);

      expect(events.map((event) => event.type)).toEqual(['text', 'text']);
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ kind: 'overloaded', retryable: true });
    });

    it('ends with a ModelError of kind connection after the 2 chunks sent before the connection dropped', async () => {
      const stream = await model.openStream(
        requestFor({ kind: 'fail-mid', chunks: 2, error: 'connection' }),
      );

      const { texts, error } = await consume(stream);

      expect(texts).toHaveLength(2);
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ kind: 'connection' });
    });

    it('waits on a stalled stream until the signal aborts, then ends with a ModelError of kind connection', async () => {
      const controller = new AbortController();
      const stream = await model.openStream(
        requestFor({ kind: 'stall', chunks: 1 }, { signal: controller.signal }),
      );
      setTimeout(() => controller.abort(), ABORT_AFTER_MS);

      const { texts, error } = await consume(stream);

      expect(controller.signal.aborted).toBe(true);
      expect(texts).toHaveLength(1);
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ kind: 'connection' });
    });

    it('ends an answer with a ModelError of kind connection, before its stop, when the signal aborts', async () => {
      const controller = new AbortController();
      const stream = await model.openStream(
        requestFor({ kind: 'answer', chunks: 20 }, { signal: controller.signal }),
      );

      const { events, error } = await consume(stream, () => controller.abort());

      expect(events.some((event) => event.type === 'stop')).toBe(false);
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ kind: 'connection' });
    });

    it('rejects a call whose signal has already aborted with a ModelError of kind timeout', async () => {
      const request = requestFor({ kind: 'answer', chunks: 3 }, { signal: AbortSignal.abort() });

      const error = await failure(model.openStream(request));

      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ kind: 'timeout' });
    });
  });

  describe('complete', () => {
    it('returns the whole text, usage and stop reason of the same answer streamed', async () => {
      const script: ModelScript = { kind: 'answer', chunks: 3 };
      const stream = await model.openStream(requestFor(script));
      const { events, texts } = await consume(stream);

      const answer = await model.complete(requestFor(script));

      expect(answer).toEqual({
        model: stream.model,
        text: texts.join(''),
        stopReason: 'end_turn',
        usage: events.flatMap((event) => (event.type === 'usage' ? [event.usage] : [])).at(-1),
      });
    });

    it('cuts an answer longer than maxTokens, with stop reason max_tokens', async () => {
      const answer = await model.complete(
        requestFor({ kind: 'answer', chunks: 5 }, { maxTokens: 3 }),
      );

      expect(answer.stopReason).toBe('max_tokens');
      expect(answer.usage.outputTokens).toBe(3);
    });

    it.each<{ when: string; script: ModelScript; kind: ModelErrorKind }>([
      {
        when: 'fails before the answer starts',
        script: { kind: 'fail-before', error: 'overloaded' },
        kind: 'overloaded',
      },
      {
        when: 'fails mid-answer',
        script: { kind: 'fail-mid', chunks: 2, error: 'overloaded' },
        kind: 'overloaded',
      },
      {
        when: 'loses its connection',
        script: { kind: 'fail-mid', chunks: 2, error: 'connection' },
        kind: 'connection',
      },
    ])('rejects with a ModelError of kind $kind when the call $when', async ({ script, kind }) => {
      const error = await failure(model.complete(requestFor(script)));

      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ kind });
    });

    it('waits on a stalled answer until the signal aborts, then rejects with a ModelError of kind timeout', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), ABORT_AFTER_MS);

      const error = await failure(
        model.complete(requestFor({ kind: 'stall', chunks: 0 }, { signal: controller.signal })),
      );

      expect(controller.signal.aborted).toBe(true);
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ kind: 'timeout' });
    });
  });
}
