/**
 * How long a connection to Claude stays open in the pool, idle. Node's `fetch` closes one
 * after 4 s unless the server names a longer keep-alive, which the Anthropic API (behind
 * Cloudflare, which keeps an idle HTTP/1.1 connection 400 s) does not: every turn after a
 * pause of more than 4 s opened TCP and TLS again. Under the 60 s an AWS load balancer keeps
 * one by default without saying so (an `anthropicBaseUrl` proxy behind one), and the 350 s
 * after which a NAT gateway forgets an idle flow.
 */
export const ANTHROPIC_KEEP_ALIVE_MS = 50_000;

/** Where undici (Node's `fetch` included) keeps the dispatcher `fetch` uses by default. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

type AgentConstructor = new (options: { keepAliveTimeout: number }) => object;

/**
 * `fetch` whose connections stay open `idleMs` when idle, unless the server names its own
 * keep-alive. It draws on an Agent of Node's own undici (the class of the dispatcher `fetch`
 * uses by default; the npm package would add 512 KB to the bundle), made on the first call;
 * a default dispatcher that is not a plain Agent (a proxy's from `NODE_USE_ENV_PROXY`, a
 * test's mock) is left to do its work.
 */
export function keepAliveFetch(idleMs: number, next: typeof fetch = fetch): typeof fetch {
  let dispatcher: object | undefined;
  let made = false;
  return (input, init) => {
    if (!made) {
      made = true;
      const Agent = defaultAgentClass();
      dispatcher = Agent && new Agent({ keepAliveTimeout: idleMs });
    }
    // `dispatcher` is undici's extension of RequestInit, which Node's `fetch` reads.
    return dispatcher ? next(input, { ...init, dispatcher } as RequestInit) : next(input, init);
  };
}

function defaultAgentClass(): AgentConstructor | undefined {
  // Node's `fetch` sets its default dispatcher as it loads, which its classes make it do.
  void new Headers();
  const current = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER];
  const itsClass = (current as { constructor?: unknown } | undefined)?.constructor;
  return typeof itsClass === 'function' && itsClass.name === 'Agent'
    ? (itsClass as AgentConstructor)
    : undefined;
}
