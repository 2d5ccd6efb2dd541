import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../../../infra/bundling.js';
import { writePlaygroundModule } from '../../../../../scripts/build-playground.js';

describe("the chat function's bundle", () => {
  it('keeps the playground page out of its entry module: a chunk loaded only when the page is asked for', () => {
    writePlaygroundModule();
    const outdir = mkdtempSync(join(tmpdir(), 'chat-bundle-'));
    try {
      const { metafile } = bundleFunction('functions/chat/handler.ts', outdir);
      const holding = Object.entries(metafile.outputs)
        .filter(([file]) => file.endsWith('.mjs'))
        .filter(([, output]) =>
          Object.keys(output.inputs).some((input) => input.endsWith('page.generated.js')),
        )
        .map(([file]) => file.slice(file.lastIndexOf(outdir.split('/').pop()!)));
      expect(holding).toHaveLength(1);
      expect(holding[0]).toMatch(/\/chunks\/page\.generated-[A-Z0-9]+\.mjs$/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});
