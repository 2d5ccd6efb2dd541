/** A JSON response; `undefined` makes an empty body (204). */
export function json(
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): Response {
  if (body === undefined) return new Response(null, { status, headers });
  return Response.json(body, { status, headers });
}
