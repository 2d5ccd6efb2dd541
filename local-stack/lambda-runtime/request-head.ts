/** The parts of a request head the front end checks before anything reaches the function. */
export interface RequestHead {
  /** The request target as received (Node's `req.url`). */
  url?: string | undefined;
  /** `'1.1'`, `'1.0'` */
  httpVersion: string;
  /** Node's `req.rawHeaders`: name, value, name, value, ... */
  rawHeaders: readonly string[];
}

// A DNS name (underscores allowed, as in Docker service names), an IPv4 address or an IPv6
// literal, then an optional port: what a client reaching a function URL can put in Host.
const HOST = /^(?:\[[0-9a-f:.]+\]|[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?)(?::[0-9]{1,5})?$/i;

/**
 * Whether the function URL's front end would pass this head on to the function. The front end
 * refuses the rest itself, never invoking: a target other than a path (absolute-form
 * `http://host/path`, `*`), or a Host that is missing (HTTP/1.1), repeated or not a host
 * (RFC 9112, section 3.2). Powertools builds the request's URL from Host and `rawPath`, so a
 * bad one would otherwise fail inside the handler, as a 502. A well-formed Host naming another
 * site passes (AWS answers it 403): locally the server is reached by many names.
 */
export function isWellFormedHead(head: RequestHead): boolean {
  if (!head.url?.startsWith('/')) return false;
  const hosts = hostValues(head.rawHeaders);
  if (hosts.length === 0) return head.httpVersion === '1.0';
  return hosts.length === 1 && isHost(hosts[0]!);
}

function hostValues(rawHeaders: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'host') values.push(rawHeaders[i + 1]!);
  }
  return values;
}

/** The grammar, then the WHATWG URL parser the handler uses: it refuses `[::::]`, `10.0.0.999`, port 70000. */
function isHost(value: string): boolean {
  return HOST.test(value) && URL.canParse(`http://${value}/`);
}
