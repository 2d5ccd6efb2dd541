import { acceptsGzip } from '../http/accepts-gzip.js';
import { defineRoute } from '../http/route.js';

/** The page, decoded once per execution environment, on its first request. */
let page: Promise<{ gzip: Buffer; csp: string }> | undefined;

function loadPage() {
  // Its own chunk in the bundle (~170 KB): imported only when the page is asked for, so
  // it adds nothing to a cold start.
  page ??= import('../playground/page.generated.js').then((module) => ({
    gzip: Buffer.from(module.PLAYGROUND_HTML_GZIP, 'base64'),
    csp: module.PLAYGROUND_CSP,
  }));
  return page;
}

/**
 * GET / and GET /playground (no auth: the page served holds no secret; the token is pasted into
 * it, or passed in the URL fragment, which no server sees): a chat page on the AI SDK's
 * useChat. Its CSP allows only its own inline script and style and calls to this origin.
 *
 * Once open it holds a bearer token, so no other site gets a handle on it: COOP puts it in
 * a browsing context group of its own (a page that opened it can neither navigate it, to a
 * look-alike asking for the token, nor probe it), and it is never framed (CSP
 * `frame-ancestors`, and `X-Frame-Options` for browsers that know only that).
 */
export const playgroundRoutes = () =>
  (['/', '/playground'] as const).map((path) =>
    defineRoute({
      method: 'GET',
      path,
      access: 'public',
      docs: {
        operationId: path === '/' ? 'getPlaygroundAtRoot' : 'getPlayground',
        summary: 'The playground: a chat page on useChat',
        description:
          "An HTML page (no credential needed to load it): paste a token, or pass it as `#token=…` in the URL fragment, which no server sees. It chats through POST /v1/ui/chat, lists conversations, stops answers and shows the month's usage.",
        responses: { 200: { description: 'The page.', text: 'text/html' } },
      },
      handle: async ({ request }) => {
        const { gzip, csp } = await loadPage();
        const gzipped = acceptsGzip(request.headers.get('accept-encoding'));
        const headers: Record<string, string> = {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': csp,
          'cache-control': 'no-cache',
          'referrer-policy': 'no-referrer',
          'cross-origin-opener-policy': 'same-origin',
          'x-frame-options': 'DENY',
          'x-content-type-options': 'nosniff',
          vary: 'accept-encoding',
          ...(gzipped && { 'content-encoding': 'gzip' }),
        };
        // Loaded here, not at import (~4 ms of a cold start): only this route needs node:zlib.
        const body = gzipped ? gzip : (await import('node:zlib')).gunzipSync(gzip);
        return new Response(new Uint8Array(body), {
          status: 200,
          headers,
        });
      },
    }),
  );
