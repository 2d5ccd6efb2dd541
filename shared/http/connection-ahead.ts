/**
 * Opens a connection to `url`'s origin in the pool `fetch` draws on, so that the next call
 * there through the same `fetch` finds TCP and TLS done. A GET without credentials, its answer
 * read to the end so that the connection goes back to the pool (`fetch` closes the connection
 * of a HEAD); however it is answered, only the connection counts, and a failure is no one's
 * (the call opens its own). The pool closes a connection left idle (Node's `fetch` after 4 s,
 * `keepAliveFetch` when told): open it only for a call about to come. Never rejects.
 */
export async function openConnectionAhead(
  url: string,
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<void> {
  const { fetch: send = fetch, timeoutMs = 3_000 } = options;
  try {
    const response = await send(url, {
      // A redirect (to a documentation page, say) would open a connection to another host.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
  } catch {
    // The call opens a connection of its own.
  }
}
