import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>useChat app</title></head>
<body><div id="root"></div><script type="module" src="/app.js"></script></body></html>`;

/**
 * The React app of `use-chat-app/`, bundled as an app developer's bundler would, served on
 * its own origin (`localhost`, another port than the function URL's).
 */
export async function startUseChatApp() {
  const { outputFiles } = buildSync({
    entryPoints: [fileURLToPath(new URL('use-chat-app/main.tsx', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  const script = outputFiles[0]!.text;
  const server = createServer((request, response) => {
    const [type, body] =
      request.url === '/app.js' ? ['text/javascript', script] : ['text/html', PAGE];
    response.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  return {
    origin: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
