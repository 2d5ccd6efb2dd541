/** A buffered (non-streaming) function URL response. */
export interface JsonResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function jsonResponse(
  statusCode: number,
  payload: unknown,
  headers: Record<string, string> = {},
): JsonResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: payload === undefined ? '' : JSON.stringify(payload),
  };
}
