/**
 * The chat function in a process of its own, so a test can kill it mid-answer as AWS
 * does when a function dies (out of memory, killed, timed out). Reads the functions'
 * environment, plus TURN_LEASE_MS and ANSWER_PIECE_INTERVAL_MS; prints its URL as JSON.
 */
import '../../../local-stack/lambda-runtime/install-globals.js';
import { streamify } from '@aws-lambda-powertools/event-handler/http';
import type { Handler } from 'aws-lambda';
import { composeChatApp, createChatAdapters } from '../../../functions/chat/compose.js';
import { startFunctionUrl } from '../../../local-stack/lambda-runtime/function-url.js';
import { loadSettings } from '../../../shared/config/load-settings.js';

const settings = loadSettings(process.env);
const app = composeChatApp(settings, createChatAdapters(settings), {
  turnLeaseMs: Number(process.env.TURN_LEASE_MS),
  answerPieceIntervalMs: Number(process.env.ANSWER_PIECE_INTERVAL_MS),
});
const functionUrl = await startFunctionUrl({
  handler: streamify(app) as unknown as Handler,
  functionName: 'chat',
  timeoutMs: 60_000,
  log: () => {},
});
console.log(JSON.stringify({ url: functionUrl.url }));
