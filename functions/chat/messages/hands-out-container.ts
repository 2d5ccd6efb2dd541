import type { MessagesRequest } from './messages-request.js';

/**
 * Whether the answer to `request` may name a code execution container (a `container` asked
 * for, or a code execution tool offered): its id, and the ids of files made in it, are
 * access to that container across the deployment's Anthropic organization, so such an
 * answer is never replayed to another principal.
 */
export function handsOutContainer(request: MessagesRequest): boolean {
  return (
    (request as { container?: unknown }).container != null ||
    (request.tools ?? []).some(
      (tool) => typeof tool.type === 'string' && tool.type.startsWith('code_execution'),
    )
  );
}
