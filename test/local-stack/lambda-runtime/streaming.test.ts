import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import {
  LambdaResponseStream,
  type ResponseSink,
} from '../../../local-stack/lambda-runtime/response-stream.js';
import {
  HANDLER_STREAMING,
  HTTP_INTEGRATION_RESPONSE_CONTENT_TYPE,
  HttpResponseStream,
  isStreamingHandler,
  streamifyResponse,
} from '../../../local-stack/lambda-runtime/streaming.js';

/** A sink that records what reaches the service. */
function recordingSink() {
  const chunks: { bytes: Buffer; contentType: string }[] = [];
  let ended = false;
  const sink: ResponseSink = {
    write: (chunk, contentType, done) => {
      chunks.push({ bytes: chunk, contentType });
      done();
    },
    end: () => {
      ended = true;
    },
    abort: () => {},
  };
  return {
    sink,
    chunks,
    bytes: () => Buffer.concat(chunks.map((c) => c.bytes)),
    ended: () => ended,
  };
}

const finish = (stream: LambdaResponseStream) =>
  new Promise<void>((resolve) => stream.end(() => resolve()));

describe('the awslambda globals', () => {
  it('are installed by the setup file with the runtime streaming marker and HttpResponseStream', () => {
    const handler = awslambda.streamifyResponse(async () => {});
    expect(
      (handler as unknown as Record<symbol, unknown>)[
        Symbol.for('aws.lambda.runtime.handler.streaming')
      ],
    ).toBe('response');
    expect(typeof awslambda.HttpResponseStream.from).toBe('function');
  });

  it('are left alone when the install module runs again', async () => {
    const before = (globalThis as { awslambda?: unknown }).awslambda;
    vi.resetModules();
    await import('../../../local-stack/lambda-runtime/install-globals.js');
    expect((globalThis as { awslambda?: unknown }).awslambda).toBe(before);
  });
});

describe('streamifyResponse', () => {
  it('returns the same function, marked as streaming', () => {
    const handler = async (_event: unknown, _stream: unknown, _context: Context) => {};
    expect(streamifyResponse(handler)).toBe(handler);
    expect(isStreamingHandler(handler)).toBe(true);
    expect(isStreamingHandler(async () => {})).toBe(false);
  });

  it('rejects a streaming marker other than response, like the runtime', () => {
    const handler = Object.assign(async () => {}, { [HANDLER_STREAMING]: 'request' });
    expect(() => isStreamingHandler(handler)).toThrow('Only response streaming is supported.');
  });
});

describe('HttpResponseStream.from', () => {
  it('writes the JSON prelude and 8 NUL bytes before the first write', async () => {
    const { sink, chunks, bytes } = recordingSink();
    const stream = HttpResponseStream.from(new LambdaResponseStream(sink), {
      statusCode: 201,
      headers: { 'x-a': 'b' },
    });
    stream.write('hello');
    await finish(stream);

    const prelude = JSON.stringify({ statusCode: 201, headers: { 'x-a': 'b' } });
    expect(bytes()).toEqual(
      Buffer.concat([Buffer.from(prelude), Buffer.alloc(8), Buffer.from('hello')]),
    );
    expect(chunks[0]?.contentType).toBe(HTTP_INTEGRATION_RESPONSE_CONTENT_TYPE);
  });

  it('flushes the prelude on an empty write', async () => {
    const { sink, bytes } = recordingSink();
    const stream = HttpResponseStream.from(new LambdaResponseStream(sink), { statusCode: 204 });
    stream.write('');

    await new Promise((resolve) => setImmediate(resolve));
    expect(bytes()).toEqual(Buffer.concat([Buffer.from('{"statusCode":204}'), Buffer.alloc(8)]));
  });

  it('loses the prelude when the handler calls end(data) without a write, as on AWS', async () => {
    const { sink, bytes } = recordingSink();
    const stream = HttpResponseStream.from(new LambdaResponseStream(sink), { statusCode: 201 });
    await new Promise<void>((resolve) => stream.end('body', () => resolve()));
    expect(bytes().toString()).toBe('body');
  });
});

describe('the response stream', () => {
  it('refuses a content type set after the first write', () => {
    const stream = new LambdaResponseStream(recordingSink().sink);
    stream.setContentType('text/plain');
    stream.write('x');
    expect(() => stream.setContentType('text/html')).toThrow('Cannot set content-type, too late.');
  });

  it('serializes non-binary chunks as JSON, like the runtime', async () => {
    const { sink, bytes } = recordingSink();
    const stream = new LambdaResponseStream(sink);
    stream.write({ a: 1 } as unknown as string);
    await finish(stream);
    expect(bytes().toString()).toBe('{"a":1}');
  });

  it('tells the service it ended', async () => {
    const recorder = recordingSink();
    const stream = new LambdaResponseStream(recorder.sink);
    await finish(stream);
    expect(recorder.ended()).toBe(true);
  });
});
