import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { InfraConfigError, loadInfraConfig } from './config.js';
import { ClaudeServerlessStack } from './stack.js';

const app = new App();

let config: ReturnType<typeof loadInfraConfig>;
try {
  config = loadInfraConfig(app.node.getAllContext());
} catch (error) {
  if (!(error instanceof InfraConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

new ClaudeServerlessStack(app, config.stackName, {
  config,
  description: 'Claude on AWS serverless: streaming chat API, jobs worker, budgets',
  // Without an account the stack stays environment-agnostic (the CLI would otherwise
  // pin it to its default region); AWS_REGION picks the region at deploy time.
  ...(process.env.CDK_DEFAULT_ACCOUNT && {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  }),
});

// cdk-nag 3: a policy-validation plugin; any unacknowledged finding fails synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
