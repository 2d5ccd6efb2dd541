/**
 * The local stack's fixed names and development secrets. Never used on AWS, where
 * secrets live in Secrets Manager.
 */
export const LOCAL_STACK = {
  tableName: 'claude-serverless-local',
  queueName: 'claude-serverless-jobs',
  deadLetterQueueName: 'claude-serverless-jobs-dlq',
  eventsTopicName: 'claude-serverless-events',
  /** The dev HS256 secret tokens are signed with (npm run token). */
  jwtSecret: 'local-development-secret-do-not-use-in-production',
  signingKey: 'local-development-signing-key-do-not-use-in-production',
  /** What the local Claude accepts as a key. */
  localClaudeApiKey: 'local-claude-key',
  ports: {
    functionUrl: 3000,
    dynamodb: 8000,
    sqs: 9324,
    localClaude: 4010,
  },
  chatFunction: { name: 'chat' },
  workerFunction: { name: 'worker' },
  maintenanceFunction: { name: 'maintenance' },
  /** Where npm start writes its endpoints and DynamoDB Local keeps its data, unless `LOCAL_STATE_DIR` says. */
  stateDir: '.local',
} as const;

/**
 * The local stack's state directory: `LOCAL_STATE_DIR`, so that two stacks started from one checkout
 * keep apart (with their own ports), or `.local`. The commands that find a running stack read it too.
 */
export const localStateDir = (): string => process.env.LOCAL_STATE_DIR || LOCAL_STACK.stateDir;
