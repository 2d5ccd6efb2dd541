import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, inject } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { DynamoUsageLedger } from '../../../shared/adapters/dynamodb/usage-ledger.js';
import { usageLedgerContract } from '../../contracts/usage-ledger.contract.js';

/** Below $20 the global budget is one shard, as the contract's exact global checks need. */
const GLOBAL_BUDGET_USD = 10;

describe('DynamoUsageLedger on DynamoDB Local', () => {
  let client: DynamoDBClient;
  beforeAll(() => {
    ensureLocalAwsEnv();
    client = createDynamoDbClient(inject('dynamodbEndpoint'));
  });

  // A table per test: reclaiming and the global spend read the whole ledger.
  usageLedgerContract(async () => {
    const tableName = `contract-ledger-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    return {
      ledger: new DynamoUsageLedger(createDocumentClient(client), tableName, GLOBAL_BUDGET_USD),
    };
  });
});
