import { describe } from 'vitest';
import { modelBatchesContract } from '../../contracts/model-batches.contract.js';
import { ScriptedModelBatches } from '../../fakes/scripted-model-batches.js';

const OVERLOADED = '(overloaded)';

describe('ScriptedModelBatches', () => {
  modelBatchesContract(async () => ({
    batches: new ScriptedModelBatches(({ request }) =>
      JSON.stringify(request.messages).includes(OVERLOADED)
        ? { kind: 'error', error: 'overloaded' }
        : { kind: 'answer', text: 'A faithful summary of it.' },
    ),
    overloaded: (request) => {
      const copy = structuredClone(request);
      const block = copy.request.messages.at(-1)?.blocks.at(-1);
      if (block) block.text += ` ${OVERLOADED}`;
      return copy;
    },
  }));
});
