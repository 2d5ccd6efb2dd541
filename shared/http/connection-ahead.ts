/**
 * Opens a connection to `url`'s origin in the pool `fetch` draws on (Node's global dispatcher),
 * so that the next call there finds TCP and TLS done. A GET without credentials, its answer
 * read to the end so that the connection goes back to the pool (`fetch` closes the connection
 * of a HEAD); however it is answered, only the connection counts, and a failure is no one's
 * (the call opens its own). `fetch` closes a connection idle for 4 s: open it only for a call
 * about to come. Never rejects.
 */
export async function openConnectionAhead(url: string, timeoutMs = 3_000): Promise<void> {
  try {
    const response = await fetch(url, {
      // A redirect (to a documentation page, say) would open a connection to another host.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
  } catch {
    // The call opens a connection of its own.
  }
}
