import { describe } from 'vitest';
import { contractRequest, modelContract } from '../../contracts/model.contract.js';
import { ScriptedModel } from '../../fakes/scripted-model.js';

describe('ScriptedModel', () => {
  modelContract(async () => {
    const model = new ScriptedModel();
    return {
      model,
      requestFor: (script, fields) => {
        model.enqueue(script);
        return contractRequest(fields);
      },
    };
  });
});
