import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_DEFINITION } from '../../shared/table/definition.js';
import type { ClaudeFunction } from './claude-function.js';

export interface DataTableProps {
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** @default true */
  readonly deletionProtection?: boolean;
}

const ATTRIBUTE_TYPE = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
} as const;

const PROJECTION_TYPE = {
  ALL: dynamodb.ProjectionType.ALL,
  KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
} as const;

const attribute = (key: {
  name: string;
  type: keyof typeof ATTRIBUTE_TYPE;
}): dynamodb.Attribute => ({ name: key.name, type: ATTRIBUTE_TYPE[key.type] });

/**
 * The single table, built from TABLE_DEFINITION (keys, GSI, TTL): on-demand, with
 * point-in-time recovery and encryption under the AWS managed key.
 */
export class DataTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DataTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: attribute(TABLE_DEFINITION.partitionKey),
      sortKey: attribute(TABLE_DEFINITION.sortKey),
      timeToLiveAttribute: TABLE_DEFINITION.timeToLiveAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    for (const index of TABLE_DEFINITION.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        projectionType: PROJECTION_TYPE[index.projection],
      });
    }
  }
}

/**
 * The item operations the functions send (a transaction is authorized as its items' puts,
 * updates, deletes and condition checks): not Scan, the streams' reads nor DescribeTable, which
 * grantReadWriteData adds. test/integration/iam-coverage checks each call made is granted.
 */
const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

/**
 * Read/write on the table and its indexes, and TABLE_NAME set: grant and setting
 * together. Powertools idempotency records live in the same table.
 */
export function bindTable(fn: ClaudeFunction, table: dynamodb.ITable): void {
  table.grant(fn.function, ...TABLE_ACTIONS);
  fn.setSetting('tableName', table.tableName);
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagResourceName(table)}/index/*]`,
    reason:
      "The grant covers the table and all its indexes (index/*); the functions query the GSI, and the table holds only this product's items.",
  });
}

/** How cdk-nag names the table's ARN in a finding: `<LogicalId.Arn>` for a table of this stack. */
function nagResourceName(table: dynamodb.ITable): string {
  const arn: unknown = Stack.of(table).resolve(table.tableArn);
  const getAtt = (arn as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  return getAtt ? `<${getAtt[0]}.${getAtt[1]}>` : String(arn);
}
