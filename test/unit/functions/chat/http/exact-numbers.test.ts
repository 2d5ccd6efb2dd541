import { describe, expect, it } from 'vitest';
import {
  bodyWithExactNumbers,
  MAX_EXACT_VALUES,
} from '../../../../../functions/chat/http/exact-numbers.js';

const post = (body: string) =>
  new Request('https://gateway.example/v1/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

describe('bodyWithExactNumbers', () => {
  it('reads the body again after a copy of it was validated, with its numbers as written', async () => {
    const text =
      '{"model":"m","messages":[{"role":"assistant","content":[{"input":{"id":12345678901234567891}}]}]}';
    const request = post(text);
    await request.clone().json();

    const exact = await bodyWithExactNumbers(request);

    expect(JSON.stringify(exact)).toBe(text);
  });

  it('leaves a body of more values than it reads as parsed: millions of numbers cost seconds of CPU', async () => {
    const numbers = Array(MAX_EXACT_VALUES).fill('1.0').join(',');

    expect(
      await bodyWithExactNumbers(post(`{"id":12345678901234567891,"x":[${numbers}]}`)),
    ).toBeUndefined();
  });

  it('is undefined when parsing changes no number, and when the body was read already', async () => {
    expect(
      await bodyWithExactNumbers(post('{"max_tokens":1024,"temperature":0.5}')),
    ).toBeUndefined();

    const read = post('{"id":12345678901234567891}');
    await read.text();
    expect(await bodyWithExactNumbers(read)).toBeUndefined();
  });
});
