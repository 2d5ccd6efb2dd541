import { SETTINGS } from '../shared/config/settings.js';

/** The chat function's memory as the stack deploys it by default (`chatMemoryMb`). */
export const DEPLOYED_CHAT_MEMORY_MB = SETTINGS.chatMemoryMb.defaultValue as number;

/**
 * V8's heap as the Lambda Node.js runtime sizes it for a function's memory: its bootstrap
 * starts Node with a new space of a tenth of the memory, in two semi-spaces, and the rest as
 * old space (`/var/runtime/bootstrap`, as published from the nodejs14.x and 18.x runtimes).
 * Left to itself, Node would size the heap for this machine's memory instead (semi-spaces of
 * up to 32 MB here), which changes how often young collections pause the process, how long,
 * and the memory it holds.
 */
export function lambdaHeapFlags(memoryMb: number): string[] {
  const newSpaceMb = Math.floor(memoryMb / 10);
  return [
    `--max-semi-space-size=${Math.floor(newSpaceMb / 2)}`,
    `--max-old-space-size=${memoryMb - newSpaceMb}`,
  ];
}
