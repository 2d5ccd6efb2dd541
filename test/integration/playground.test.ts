import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/test-stack.js';

/** A raw GET (fetch would decode the body itself): status, headers and the bytes sent. */
function get(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>(
    (resolve, reject) => {
      httpRequest(url, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers as Record<string, string>,
            body: Buffer.concat(chunks),
          }),
        );
      })
        .on('error', reject)
        .end();
    },
  );
}

const inlined = (html: string, tag: 'script' | 'style') =>
  new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`).exec(html)?.[1] ?? '';
const sha256 = (text: string) => `sha256-${createHash('sha256').update(text).digest('base64')}`;

describe('GET / and GET /playground', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.close());

  it('serves the playground without a credential, gzipped for a browser', async () => {
    const page = await get(`${stack.url}/`, { 'accept-encoding': 'gzip, deflate, br' });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-encoding']).toBe('gzip');
    expect(page.headers.vary).toMatch(/accept-encoding/i);
    const html = gunzipSync(page.body).toString('utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<title>Claude playground</title>');

    const plain = await get(`${stack.url}/playground`);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString('utf8')).toBe(html);
  });

  it('gzips the page only for a client whose Accept-Encoding takes gzip, whatever its case or weight', async () => {
    const encodingFor = async (acceptEncoding: string) =>
      (await get(`${stack.url}/`, { 'accept-encoding': acceptEncoding })).headers[
        'content-encoding'
      ];

    for (const refuses of [
      'gzip;q=0',
      'gzip; q=0.0, identity',
      'br, gzip;q=0',
      '*;q=0',
      'x-gzip2',
    ]) {
      expect(await encodingFor(refuses), refuses).toBeUndefined();
    }
    for (const takes of ['GZIP', 'gzip;q=0.5', 'br;q=1, gzip;q=0.1', '*', 'identity, *;q=0.3']) {
      expect(await encodingFor(takes), takes).toBe('gzip');
    }
  });

  it('allows exactly its inline script and style, calls to its own origin, no framing and no opener', async () => {
    const page = await get(`${stack.url}/`);
    const html = page.body.toString('utf8');
    const csp = page.headers['content-security-policy']!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src '${sha256(inlined(html, 'script'))}'`);
    expect(csp).toContain(`style-src '${sha256(inlined(html, 'style'))}'`);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
  });
});
