import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ClaudeFunction } from './claude-function.js';

/**
 * The topic producers subscribe to: every job's end and progress, and budgets crossing
 * 50, 80 and 100% (shared/events/producer-events.ts). Its message attributes (`type`,
 * `status`, `userId`, `scope`) let a subscription filter: SQS, HTTPS, Lambda or e-mail.
 */
export class JobEvents extends Construct {
  public readonly topic: sns.Topic;
  public readonly key: kms.Key;

  /** @param removalPolicy for the topic's key @default RemovalPolicy.RETAIN */
  constructor(scope: Construct, id: string, removalPolicy = RemovalPolicy.RETAIN) {
    super(scope, id);
    // A key of our own: publishers and subscribers' services are granted it explicitly
    // (the AWS managed SNS key cannot be granted to an SQS subscription of another account).
    this.key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the job events topic',
      enableKeyRotation: true,
      removalPolicy,
    });
    this.topic = new sns.Topic(this, 'Topic', { masterKey: this.key, enforceSSL: true });
  }
}

/** EVENTS_TOPIC_ARN set, with the right to publish (and to use the topic's key). */
export function bindEvents(fn: ClaudeFunction, topic: sns.ITopic): void {
  topic.grantPublish(fn.function);
  fn.setSetting('eventsTopicArn', topic.topicArn);
  Validations.of(fn.role).acknowledge({
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason:
      "Publishing to an encrypted topic needs kms:GenerateDataKey* (SNS asks for a data key per message); grantPublish grants it on the topic's own key only.",
  });
}
