import { randomUUID } from 'node:crypto';
import { beforeAll, describe, inject } from 'vitest';
import { ensureTable } from '../../../local-stack/dynamodb/create-table.js';
import { ensureLocalAwsEnv } from '../../../local-stack/function-env.js';
import {
  createDocumentClient,
  createDynamoDbClient,
} from '../../../shared/adapters/aws/clients.js';
import { CursorCodec } from '../../../shared/adapters/dynamodb/cursor.js';
import { DynamoJobStore } from '../../../shared/adapters/dynamodb/job-store.js';
import { jobStoreContract } from '../../contracts/job-store.contract.js';

describe('DynamoJobStore on DynamoDB Local', () => {
  let jobs: DynamoJobStore;
  beforeAll(async () => {
    ensureLocalAwsEnv();
    const client = createDynamoDbClient(inject('dynamodbEndpoint'));
    const tableName = `contract-jobs-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    jobs = new DynamoJobStore(
      createDocumentClient(client),
      tableName,
      new CursorCodec(async () => 'a-test-signing-key'),
    );
  });

  jobStoreContract(async () => jobs);
});
