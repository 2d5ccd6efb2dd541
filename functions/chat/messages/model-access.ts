import { checkKeyAllowsModel } from '../../../shared/domain/api-key.js';
import { NotFoundError, PermissionError, ValidationError } from '../../../shared/domain/errors.js';
import { isKnownModel, listsModel } from '../../../shared/domain/model-id.js';
import { namedId, quoted } from '../../../shared/domain/quoted.js';
import type { Caller, MessagesLimits } from './messages-types.js';

/** The models a caller may use: the deployment's, narrowed by its API key's. */
export function modelsFor(caller: Caller, limits: Pick<MessagesLimits, 'models'>): string[] {
  const keyModels = caller.apiKey?.allowedModels;
  return [...limits.models].filter((model) => !keyModels || keyModels.includes(model));
}

/**
 * @param knownModels the models there are: those the price table prices (its defaults and the
 *   `modelPrices` setting), every allowed one among them. A model released since, or a typo,
 *   can be neither billed nor served here; no round trip asks the upstream.
 * @throws NotFoundError for a model there is not, as the API answers it (`model: …`, 404)
 * @throws PermissionError when the caller may not use `model` (or the alias it is a dated snapshot of)
 */
export function checkModel(
  model: string,
  caller: Caller,
  limits: Pick<MessagesLimits, 'models'>,
  knownModels: { has(model: string): boolean },
): void {
  if (!isKnownModel(model, limits.models, knownModels)) {
    // Claude Code and the SDKs read a 404 on the model as a model that does not exist.
    throw new NotFoundError(
      `model: ${namedId(model)} (no such model here; available: ${[...limits.models].join(', ')})`,
    );
  }
  if (!listsModel(limits.models, model)) {
    throw new PermissionError(
      `model ${quoted(model)} is not available here; available: ${[...limits.models].join(', ')}`,
    );
  }
  checkKeyAllowsModel(caller.apiKey, model);
}

/** The beta of message threads, which keep a conversation upstream. */
const MESSAGE_THREADS_BETA = 'message-threads-2026-08-12';

/**
 * What a caller refused a beta that an SDK sends by default can do instead. A message thread
 * keeps the conversation upstream, where no reservation here can see how large it is.
 */
const WAYS_AROUND: ReadonlyMap<string, string> = new Map([
  [
    MESSAGE_THREADS_BETA,
    "a message thread keeps the conversation upstream, out of this gateway's sight: give the Anthropic SDK's toolRunner thread: false",
  ],
]);

/**
 * The API's `error.details` for a request it cannot thread: the Anthropic SDK's toolRunner, by
 * default (`unsupportedRequestBehavior: 'continue_unthreaded'`), then goes on without a thread,
 * sending the whole conversation with each call, as this gateway needs it.
 */
const THREAD_UNSUPPORTED = {
  error_code: 'thread_unsupported_request',
  unsupported: [MESSAGE_THREADS_BETA],
};

/** @throws ValidationError naming the betas the allowedBetas setting does not list */
export function checkBetas(betas: readonly string[], limits: Pick<MessagesLimits, 'allowedBetas'>) {
  if (limits.allowedBetas.includes('*')) return;
  const refused = betas.filter((beta) => !limits.allowedBetas.includes(beta));
  if (refused.length > 0) {
    const ways = refused.flatMap((beta) => WAYS_AROUND.get(beta) ?? []);
    throw new ValidationError(
      `anthropic-beta: ${refused.join(', ')} not allowed here (the allowedBetas setting)${ways.map((way) => `; ${way}`).join('')}`,
      refused.every((beta) => beta === MESSAGE_THREADS_BETA) ? THREAD_UNSUPPORTED : undefined,
    );
  }
}
