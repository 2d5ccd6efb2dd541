import { describe, expect, it } from 'vitest';
import { isExactNumber, parseJsonExactly } from '../../../../shared/gateway/exact-json.js';
import { canonicalJson, responseCacheKey } from '../../../../shared/gateway/response-cache-key.js';

describe('parseJsonExactly', () => {
  it.each([
    ['an integer beyond 2^53', '12345678901234567891'],
    ['a number too large for a double', '1e400'],
    ['a whole number written with a point', '1.0'],
    ['an exponent', '25e-1'],
    ['negative zero', '-0'],
    ['more digits than a double keeps', '0.10000000000000000555'],
  ])('keeps %s as written, where JSON.parse changes it', (_name, number) => {
    const text = `{"input":{"n":${number},"list":[${number}]}}`;
    expect(JSON.stringify(JSON.parse(text))).not.toBe(text);

    const { value, changed } = parseJsonExactly(text)!;

    expect(changed).toBe(true);
    expect(JSON.stringify(value)).toBe(text);
    expect(isExactNumber((value as { input: { n: unknown } }).input.n)).toBe(true);
  });

  it('parses as JSON.parse, and says so, when no number would change', () => {
    const text = '{"max_tokens":1024,"temperature":0.7,"n":-3,"big":9007199254740991,"s":"1.0"}';

    const { value, changed } = parseJsonExactly(text)!;

    expect(changed).toBe(false);
    expect(value).toEqual(JSON.parse(text));
    expect(isExactNumber((value as { s: unknown }).s)).toBe(false);
  });

  it('stops reading past maxValues values, every value counted, and says so', () => {
    const text = `{"list":[${Array(9).fill('1.0').join(',')}]}`;

    expect(parseJsonExactly(text, { maxValues: 10 })).toBeUndefined();
    expect(parseJsonExactly(text, { maxValues: 11 })?.changed).toBe(true);
  });

  it('throws on what is not JSON, as JSON.parse', () => {
    expect(() => parseJsonExactly('{"n":1.}')).toThrow(SyntaxError);
  });
});

describe('the response cache key of a number kept as written', () => {
  const request = (id: string) => parseJsonExactly(`{"input":{"id":${id}}}`)!.value;

  it('is its text', () => {
    expect(canonicalJson({ b: request('1.0'), a: 1 })).toBe('{"a":1,"b":{"input":{"id":1.0}}}');
  });

  it('tells apart requests that differ past 2^53', () => {
    const key = (id: string) =>
      responseCacheKey({ scope: 'u', api: 'messages', request: request(id), betas: [] });

    expect(key('12345678901234567891')).not.toBe(key('12345678901234567892'));
    expect(key('12345678901234567891')).toBe(key('12345678901234567891'));
  });
});
