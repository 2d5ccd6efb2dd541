import { randomUUID } from 'node:crypto';
import { beforeAll, describe, inject } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { DynamoBudgetNotices } from '../../../shared/adapters/dynamodb/budget-notices.js';
import { budgetNoticesContract } from '../../contracts/budget-notices.contract.js';

describe('DynamoBudgetNotices on DynamoDB Local', () => {
  let notices: DynamoBudgetNotices;
  beforeAll(async () => {
    ensureLocalAwsEnv();
    const client = createDynamoDbClient(inject('dynamodbEndpoint'));
    const tableName = `contract-notices-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    notices = new DynamoBudgetNotices(createDocumentClient(client), tableName);
  });

  budgetNoticesContract(async () => notices);
});
