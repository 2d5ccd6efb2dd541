import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { BudgetNotices, BudgetScope, NoticeClaim } from '../../ports/budget-notices.js';
import { failedItem, isConditionFailure } from './errors.js';
import { budgetNoticeKeys } from './keys.js';

/** A notice is remembered a little over a year, then TTL removes it. */
const NOTICE_RETENTION_SECONDS = 400 * 24 * 3600;

/** The BudgetNotices port on the single table: one item per notice, put once. */
export class DynamoBudgetNotices implements BudgetNotices {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(scope: BudgetScope, month: string, percent: number): Promise<NoticeClaim> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keyOf(scope, month, percent),
            claimedAt: new Date().toISOString(),
            expiresAt: Math.floor(Date.now() / 1000) + NOTICE_RETENTION_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          // The notice that was there, at no extra cost: when it was claimed.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const claimedAtMs = Date.parse(String(failedItem(error)?.claimedAt));
      return Number.isNaN(claimedAtMs) ? { claimed: false } : { claimed: false, claimedAtMs };
    }
  }

  async release(scope: BudgetScope, month: string, percent: number): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: keyOf(scope, month, percent) }),
    );
  }
}

function keyOf(scope: BudgetScope, month: string, percent: number) {
  if (scope.scope === 'principal') return budgetNoticeKeys.principal(scope.userId, month, percent);
  if (scope.scope === 'key') return budgetNoticeKeys.apiKey(scope.keyId, month, percent);
  return budgetNoticeKeys.deployment(month, percent);
}
