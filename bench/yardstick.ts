import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const REPETITIONS = 15;
const WARM_UPS = 2;
const ROUND_TRIPS = 400;

/**
 * A fixed piece of JavaScript work, the kind a turn does (JSON written and read, objects built,
 * a hash), timed in a Node process of its own: the same on every run of the same Node, so what it
 * takes tells this machine's speed apart from a change's effect across bench/history.md. The
 * bench's own process would not do: its loader and heap slowed the same work by half.
 * Milliseconds: the least of 15 runs after 2 to warm up, as anything else running meanwhile
 * only adds to a run. These machines also slow down for seconds at a time: the bench times it
 * before and after its run.
 */
export function yardstick(): number {
  const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url)], {
    encoding: 'utf8',
  });
  return Number.parseFloat(output);
}

function measureYardstick(): number {
  const document = turnSizedDocument();
  const times: number[] = [];
  for (let run = 0; run < WARM_UPS + REPETITIONS; run++) {
    const started = performance.now();
    let digest = '';
    for (let n = 0; n < ROUND_TRIPS; n++) {
      const text = JSON.stringify({ ...document, n });
      const read = JSON.parse(text) as typeof document;
      digest = createHash('sha256').update(text).update(digest).digest('hex');
      if (read.items.length !== document.items.length) throw new Error('yardstick: bad round trip');
    }
    if (run >= WARM_UPS) times.push(performance.now() - started);
  }
  return Math.min(...times);
}

/** About a history read's worth of items: ~50 KB of JSON. */
function turnSizedDocument() {
  return {
    conversationId: 'c'.repeat(26),
    items: Array.from({ length: 40 }, (_, seq) => ({
      pk: `USER#user-${seq % 3}#CONV#${'c'.repeat(26)}`,
      sk: `MSG#${String(seq).padStart(10, '0')}`,
      role: seq % 2 === 0 ? 'user' : 'assistant',
      content: `message ${seq}: ${'lorem ipsum dolor sit amet '.repeat(40)}`,
      usage: { input_tokens: 1_000 + seq, output_tokens: 200 + seq, cache_read_input_tokens: 0 },
      createdAt: new Date(Date.UTC(2026, 11, 3, 12, 0, seq)).toISOString(),
    })),
  };
}

if (import.meta.main) console.log(measureYardstick().toFixed(1));
