/**
 * Whether an `Accept-Encoding` header takes gzip (RFC 9110 §12.5.3): `gzip` (or its alias
 * `x-gzip`), else `*`, with a weight above 0. Codings are case-insensitive, and `q=0` means
 * "not acceptable": `gzip;q=0` is a refusal, not a request.
 */
export function acceptsGzip(acceptEncoding: string | null): boolean {
  const weights = new Map<string, number>();
  for (const element of (acceptEncoding ?? '').split(',')) {
    const [coding = '', ...parameters] = element.split(';').map((part) => part.trim());
    const q = parameters.find((parameter) => /^q\s*=/i.test(parameter));
    const weight = q === undefined ? 1 : Number(q.replace(/^q\s*=\s*/i, ''));
    weights.set(coding.toLowerCase(), Number.isNaN(weight) ? 0 : weight);
  }
  const gzip = weights.get('gzip') ?? weights.get('x-gzip') ?? weights.get('*') ?? 0;
  return gzip > 0;
}
