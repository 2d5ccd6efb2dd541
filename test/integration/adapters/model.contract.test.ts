import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalClaude, startLocalClaude } from '../../../local-stack/local-claude/index.js';
import { createAnthropicClient } from '../../../shared/adapters/anthropic/anthropic-client.js';
import { AnthropicModel } from '../../../shared/adapters/anthropic/anthropic-model.js';
import { ModelError, type ModelErrorKind } from '../../../shared/domain/errors.js';
import type { ModelRequest } from '../../../shared/ports/model.js';
import { contractRequest, modelContract } from '../../contracts/model.contract.js';
import type { ModelScript } from '../../fakes/scripted-model.js';
import { requestsMentioning } from '../support/claude-requests.js';

/** The local Claude's error-before statuses for the kinds the adapter maps them to. */
const STATUS_OF: Partial<Record<ModelErrorKind, number>> = {
  invalid_request: 400,
  authentication: 401,
  model_unavailable: 404,
  rate_limited: 429,
  api_error: 500,
  overloaded: 529,
};

/** The local Claude's mid-stream error types for the kinds the adapter maps them to. */
const ERROR_TYPE_OF: Partial<Record<ModelErrorKind, string>> = {
  overloaded: 'overloaded_error',
  rate_limited: 'rate_limit_error',
  api_error: 'api_error',
};

const chunkCount = (chunks: readonly string[] | number) =>
  typeof chunks === 'number' ? chunks : chunks.length;

/** A script as local-Claude directives; a script the double cannot play fails the test. */
function directiveOf(script: ModelScript): string {
  const unsupported = () => new Error(`the local Claude cannot play ${JSON.stringify(script)}`);
  switch (script.kind) {
    case 'answer':
      if (script.usage || (script.stopReason && script.stopReason !== 'end_turn')) {
        throw unsupported();
      }
      return `tokens=${chunkCount(script.chunks)}${script.thinks ? ' thinking-tokens=3' : ''}`;
    case 'fail-before': {
      const status = STATUS_OF[script.error];
      if (!status) throw unsupported();
      return `fault=error-before status=${status}`;
    }
    case 'fail-mid': {
      const after = chunkCount(script.chunks);
      if (script.error === 'connection') return `fault=drop after=${after}`;
      const type = ERROR_TYPE_OF[script.error];
      if (!type) throw unsupported();
      return `fault=error-mid after=${after} type=${type}`;
    }
    case 'stall':
      if (script.thinks) throw unsupported();
      return `fault=stall after=${chunkCount(script.chunks)}`;
    case 'paused':
      // A pause of the caller's own function: nothing the upstream does.
      throw unsupported();
  }
}

function withDirective(request: ModelRequest, directive: string): ModelRequest {
  const messages = structuredClone(request.messages.map(({ role, blocks }) => ({ role, blocks })));
  const last = messages.at(-1)?.blocks.at(-1);
  if (last) last.text += ` [[local-claude: ${directive}]]`;
  return { ...request, messages };
}

describe('AnthropicModel on the local Claude', () => {
  let claude: LocalClaude;
  let model: AnthropicModel;
  beforeAll(async () => {
    claude = await startLocalClaude({ timeToFirstTokenMs: 0, tokensPerSecond: 0 });
    model = new AnthropicModel(
      createAnthropicClient({ apiKey: 'contract-test', baseURL: claude.url }),
    );
  });
  afterAll(() => claude.close());

  modelContract(async () => ({
    model,
    requestFor: (script, fields) => withDirective(contractRequest(fields), directiveOf(script)),
  }));

  describe('openStream when Claude answers 200, then an error before message_start', () => {
    const calls = (key: string) => requestsMentioning(claude, `key=${key}`);

    it('tries again as the SDK retries a 529, within maxRetries, and streams the answer', async () => {
      const request = withDirective(contractRequest(), 'fault=error-first times=2 key=shed');
      const stream = await model.openStream({ ...request, maxRetries: 2 });
      let text = '';
      for await (const event of stream) if (event.type === 'text') text += event.text;
      expect(text.length).toBeGreaterThan(0);
      expect(calls('shed')).toHaveLength(3);
    });

    it('throws the overload once the retries are spent (maxRetries 0: the caller retries)', async () => {
      const request = withDirective(contractRequest(), 'fault=error-first key=spent');
      const failure = await model.openStream({ ...request, maxRetries: 0 }).catch((e) => e);
      expect(failure).toBeInstanceOf(ModelError);
      expect(failure).toMatchObject({ kind: 'overloaded' });
      expect(calls('spent')).toHaveLength(1);
    });

    it('does not try again an error no retry fixes', async () => {
      const request = withDirective(
        contractRequest(),
        'fault=error-first type=invalid_request_error key=refused',
      );
      const failure = await model.openStream({ ...request, maxRetries: 2 }).catch((e) => e);
      expect(failure).toMatchObject({ kind: 'invalid_request' });
      expect(calls('refused')).toHaveLength(1);
    });
  });
});
