import Anthropic, { type APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../support/api-keys.js';
import { apiRequests, requestsMentioning } from '../support/claude-requests.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';
import { awayFromMinuteEnd } from '../support/wall-clock-windows.js';

const MODEL = 'claude-sonnet-4-6';
const ask = (text: string, fields: Record<string, unknown> = {}) => ({
  model: MODEL,
  max_tokens: 20,
  messages: [{ role: 'user' as const, content: text }],
  ...fields,
});

async function caught(attempt: Promise<unknown>): Promise<unknown> {
  return attempt.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );
}

/** Each refusal reaches the official SDK as the typed error it raises for Anthropic's own. */
describe('/v1/messages errors, as the official SDK types them', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      env: { USER_MONTHLY_BUDGET_USD: '0.001', ALLOWED_MODELS: 'claude-haiku-4-5' },
    });
  });
  afterAll(() => stack.close());

  const sdk = (apiKey: string, options: Partial<ConstructorParameters<typeof Anthropic>[0]> = {}) =>
    new Anthropic({ baseURL: stack.url, apiKey, maxRetries: 0, ...options });

  it('401 AuthenticationError for a bad key, a forged token and an unknown API key', async () => {
    for (const apiKey of ['not-a-token', `csk_${'x'.repeat(43)}`]) {
      const error = await caught(sdk(apiKey).messages.create(ask('hi')));
      expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
      expect((error as APIError).type).toBe('authentication_error');
    }
    // Claude Code pointed here with the user's own Anthropic key: told so, the key not echoed.
    const anthropicKey = 'sk-ant-api03-0123456789abcdef';
    const told = await caught(sdk(anthropicKey).messages.create(ask('hi')));
    expect(told).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((told as Error).message).toMatch(/an Anthropic API key/);
    expect((told as Error).message).not.toContain(anthropicKey);
    expect(apiRequests(stack.claude)).toHaveLength(0);
  });

  it('402 PaymentRequiredError (billing_error) when the budget cannot hold the worst case', async () => {
    const error = await caught(
      sdk(await stack.token('poor-user')).messages.create(ask('hi', { max_tokens: 4000 })),
    );

    expect(error).toBeInstanceOf(Anthropic.PaymentRequiredError);
    expect((error as APIError).type).toBe('billing_error');
  });

  it('403 PermissionDeniedError for a model the deployment or the key does not allow', async () => {
    const { key } = await createApiKey(stack, {
      principal: 'key-user',
      allowedModels: ['claude-haiku-4-5'],
    });

    // A model there is (priced here), which this deployment does not allow.
    const notHere = await caught(
      sdk(await stack.token('u')).messages.create(ask('hi', { model: 'claude-opus-4-8' })),
    );
    const notForKey = await caught(sdk(key).messages.create(ask('hi')));

    expect(notHere).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((notHere as Error).message).toMatch(/not available here/);
    expect(notForKey).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((notForKey as Error).message).toMatch(/may use: claude-haiku-4-5/);
  });

  it('404 NotFoundError (not_found_error, "model: …") for a model there is not, as the API answers it, streamed, whole or counted', async () => {
    const client = sdk(await stack.token('u-nope'));
    const nope = ask('hi', { model: 'claude-nope-9' });

    const whole = await caught(client.messages.create(nope));
    const streamed = await caught(client.messages.create({ ...nope, stream: true }));
    const counted = await caught(
      client.messages.countTokens({ model: nope.model, messages: nope.messages }),
    );

    for (const error of [whole, streamed, counted]) {
      expect(error).toBeInstanceOf(Anthropic.NotFoundError);
      expect(error).toMatchObject({ status: 404, type: 'not_found_error' });
      expect((error as Error).message).toMatch(/model: claude-nope-9\b/);
    }
    const sent = requestsMentioning(stack.claude, 'claude-nope-9');
    expect(sent).toEqual([]);
  });

  it('400 BadRequestError for max_tokens over the cap, a beta not allowed and a bad body', async () => {
    const client = sdk(await stack.token('u'));
    const overCap = await caught(
      client.messages.create(ask('hi', { max_tokens: 128_001 }), { timeout: 10_000 }),
    );
    const beta = await caught(
      client.messages.create(ask('hi'), { headers: { 'anthropic-beta': 'made-up-2030-01-01' } }),
    );
    const noMessages = await caught(
      client.messages.create({ model: MODEL, max_tokens: 5, messages: [] }),
    );

    for (const error of [overCap, beta, noMessages]) {
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      // The SDK reads our request id from the error's headers, as from Anthropic's.
      expect((error as APIError).requestID).toBe(
        (error as APIError & { error: { requestId: string } }).error.requestId,
      );
    }
    expect((beta as Error).message).toMatch(/made-up-2030-01-01/);
  });

  it("400 BadRequestError for a server tool's max_uses that is not a count: its cost is reserved by it", async () => {
    const client = sdk(await stack.token('u'));
    const modelCalls = stack.claude.requests.length;
    const search = (max_uses: number) =>
      caught(
        client.messages.create(
          ask('hi', {
            tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses }],
          }),
        ),
      );

    for (const error of [await search(-5000), await search(0), await search(2.5)]) {
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      expect((error as Error).message).toMatch(/tools\.0\.max_uses/);
    }
    expect(stack.claude.requests).toHaveLength(modelCalls);
  });

  it('400 for workspace_id or user_profile_id in the body: the SDK upstream would make them headers next to the deployment key', async () => {
    const token = await stack.token('workspace-user');
    const modelCalls = stack.claude.requests.length;
    const post = (path: string, fields: Record<string, unknown>) =>
      fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(ask('hi', fields)),
      });

    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      for (const fields of [
        { workspace_id: 'wrkspc_victim' },
        { user_profile_id: 'a\r\nx-evil: 1' },
      ]) {
        const response = await post(path, fields);
        expect(response.status, `${path} ${Object.keys(fields)}`).toBe(400);
        const { error } = (await response.json()) as { error: { type: string; message: string } };
        expect(error.type).toBe('invalid_request_error');
        expect(error.message).toMatch(/workspace_id|user_profile_id/);
      }
    }
    expect(stack.claude.requests).toHaveLength(modelCalls);

    // The official SDK sends them as headers: those are the caller's, and stay here.
    await sdk(token).messages.create({ ...ask('hi'), workspace_id: 'wrkspc_victim' });
    expect(stack.claude.requests.at(-1)?.headers).not.toHaveProperty('anthropic-workspace-id');
  });

  it('400 for fast mode: billed at a multiple of the list price that this gateway does not know (it went upstream, billed as standard)', async () => {
    const client = sdk(await stack.token('hasty-user'));
    const modelCalls = stack.claude.requests.length;

    const error = await caught(
      client.messages.create({ ...ask('hi'), model: 'claude-haiku-4-5', speed: 'fast' }),
    );

    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toMatch(/speed: fast mode is not offered here/);
    expect(stack.claude.requests).toHaveLength(modelCalls);
  });

  it('402 for a max_uses whose cost no budget could hold, however large (it was a 500)', async () => {
    const client = sdk(await stack.token('u'));
    const modelCalls = stack.claude.requests.length;

    for (const max_uses of [1_000_000_000, Number.MAX_SAFE_INTEGER]) {
      const error = await caught(
        client.messages.create(
          ask('hi', { tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses }] }),
        ),
      );
      expect(error, String(max_uses)).toBeInstanceOf(Anthropic.APIError);
      expect((error as APIError).status).toBe(402);
      expect((error as Error).message).toMatch(/more than any budget holds/);
    }
    expect(stack.claude.requests).toHaveLength(modelCalls);
  });

  it('429 RateLimitError with retry-after when the key is over its rate', async () => {
    const { key } = await createApiKey(stack, { principal: 'busy-user', requestsPerMinute: 1 });
    const client = sdk(key);
    await awayFromMinuteEnd();
    await client.messages.create(ask('one [[local-claude: tokens=1]]', { max_tokens: 5 }));

    const error = await caught(client.messages.create(ask('two', { max_tokens: 5 })));

    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(Number((error as APIError).headers?.get('retry-after'))).toBeGreaterThan(0);
  });

  // The API sends an account out of credit as a 400 invalid_request_error, not a 402.
  const DEPLOYMENT_REFUSALS = [
    'status=401',
    'status=402',
    'status=403',
    'status=400 out-of-credit=true',
  ] as const;

  it("answers the deployment's own key or account refused upstream with 502, not as the caller's 401, 402 or 400", async () => {
    const client = sdk(await stack.token('u-upstream-refusal'));

    for (const status of DEPLOYMENT_REFUSALS) {
      const error = await caught(
        client.messages.create(ask(`hi [[local-claude: fault=error-before ${status}]]`)),
      );
      expect(error, String(status)).toBeInstanceOf(Anthropic.InternalServerError);
      expect((error as APIError).status).toBe(502);
      expect((error as APIError).type).toBe('api_error');
      expect((error as Error).message).toMatch(/this deployment's (credentials|account)/);
    }
  });

  it("has the caller's SDK give up at once on the deployment's key or account refused upstream: retries cannot fix it (Claude Code retried for minutes)", async () => {
    // The SDK's own default, 2 retries: not the `sdk` helper's 0.
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('u-no-key') });

    for (const [index, status] of DEPLOYMENT_REFUSALS.entries()) {
      const marker = `refused-${index}`;
      const error = await caught(
        client.messages.create(
          ask(`hi [[local-claude: fault=error-before ${status} key=${marker}]]`, {
            max_tokens: 1,
          }),
        ),
      );

      expect((error as APIError).status, String(status)).toBe(502);
      expect((error as APIError).headers?.get('x-should-retry')).toBe('false');
      const upstreamCalls = requestsMentioning(stack.claude, `key=${marker}`);
      expect(upstreamCalls, String(status)).toHaveLength(1);
    }
  });

  it('passes upstream errors on with their status and type: 529 OverloadedError, 500 InternalServerError', async () => {
    const client = sdk(await stack.token('u'));
    const overloaded = await caught(
      client.messages.create(ask('hi [[local-claude: fault=error-before status=529]]')),
    );
    const failed = await caught(
      client.messages.create(ask('hi [[local-claude: fault=error-before status=500]]')),
    );

    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
    expect((overloaded as APIError).status).toBe(529);
    expect((overloaded as APIError).type).toBe('overloaded_error');
    expect((failed as APIError).status).toBe(500);
  });

  it("passes upstream's error.details on, so the SDK raises its typed error (ToolNameConflictError), streamed or not", async () => {
    const client = sdk(await stack.token('u-details'));
    const conflict =
      'hi [[local-claude: fault=error-before status=400 error-code=tool_name_conflict]]';

    // One output token: this describe's budget is a thousandth of a dollar.
    const whole = await caught(client.messages.create(ask(conflict, { max_tokens: 1 })));
    const streamed = await caught(
      client.messages.create({ ...ask(conflict, { max_tokens: 1 }), stream: true }),
    );

    for (const error of [whole, streamed]) {
      expect(error).toBeInstanceOf(Anthropic.ToolNameConflictError);
      expect(error).toMatchObject({
        status: 400,
        type: 'invalid_request_error',
        errorCode: 'tool_name_conflict',
        details: { error_code: 'tool_name_conflict' },
      });
    }
  });

  it("calls upstream once when it answers x-should-retry: false, the caller's SDK retrying by default", async () => {
    // The SDK's own default, 2 retries: not the `sdk` helper's 0.
    const client = new Anthropic({ baseURL: stack.url, apiKey: await stack.token('u-retry') });
    const refusal =
      'hi [[local-claude: fault=error-before status=500 should-retry=false key=no-retry]]';

    const error = await caught(client.messages.create(ask(refusal, { max_tokens: 1 })));

    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    const upstreamCalls = requestsMentioning(stack.claude, 'key=no-retry');
    expect(upstreamCalls).toHaveLength(1);
    expect((error as APIError).headers?.get('x-should-retry')).toBe('false');
  });

  it("leaves the caller's SDK to retry a long retry-after upstream set no x-should-retry on (ours reached it)", async () => {
    const error = await caught(
      sdk(await stack.token('u-patient')).messages.create(
        ask('hi [[local-claude: fault=error-before status=429 retry-after=30]]', { max_tokens: 1 }),
      ),
    );

    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect((error as APIError).headers?.get('retry-after')).toBe('30');
    expect((error as APIError).headers?.has('x-should-retry')).toBe(false);
  });

  it('relays an error event after the stream started, which the SDK raises', async () => {
    const stream = sdk(await stack.token('u')).messages.stream(
      ask('hi [[local-claude: fault=error-mid after=2 type=overloaded_error]]'),
    );
    stream.on('error', () => {});

    const error = await caught(stream.finalMessage());

    expect((error as APIError).type).toBe('overloaded_error');
  });
});
