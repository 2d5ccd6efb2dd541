import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  CORS_ALLOWED_METHODS,
  CORS_EXPOSED_HEADERS,
  corsAllowedHeaders,
} from '../../shared/http/function-url-cors.js';
import { SERVICE } from '../../shared/observability/metric-names.js';
import { FUNCTION_ENTRY } from '../paths.js';
import { ClaudeFunction, type ClaudeFunctionProps } from './claude-function.js';
import { bindTable } from './data-table.js';
import { bindJobsQueue } from './jobs.js';
import { bindSecret } from './secrets.js';

export interface ChatApiProps {
  readonly table: dynamodb.ITable;
  readonly jobsQueue: sqs.IQueue;
  readonly anthropicApiKey: secretsmanager.ISecret;
  /** The HS256 signing secret. @default none: tokens are verified against an OIDC JWKS */
  readonly jwtSecret?: secretsmanager.ISecret;
  /** Seals page cursors. */
  readonly signingKey: secretsmanager.ISecret;
  /** Function settings and sizing; `entry` and `serviceName` are the chat function's. */
  readonly function: Omit<ClaudeFunctionProps, 'entry' | 'serviceName' | 'description'>;
  /** @default lambda.FunctionUrlAuthType.NONE: the function checks a JWT on every route but /health */
  readonly authType?: lambda.FunctionUrlAuthType;
  /** Origins the URL answers CORS for. @default none: no CORS headers */
  readonly corsAllowedOrigins?: string[];
}

/**
 * The chat function behind a function URL that streams its response (SSE); it
 * serves every HTTP route. It reads and writes the table, queues jobs and reads
 * both secrets.
 */
export class ChatApi extends Construct {
  public readonly handler: ClaudeFunction;
  public readonly functionUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: ChatApiProps) {
    super(scope, id);
    const corsAllowedOrigins = props.corsAllowedOrigins ?? [];

    const authType = props.authType ?? lambda.FunctionUrlAuthType.NONE;
    // With AWS_IAM, SigV4 signs in the Authorization header: the user's JWT moves aside.
    const tokenHeader =
      authType === lambda.FunctionUrlAuthType.AWS_IAM ? 'x-user-authorization' : 'authorization';
    this.handler = new ClaudeFunction(this, 'Chat', {
      ...props.function,
      entry: FUNCTION_ENTRY.chat,
      serviceName: SERVICE.chat,
      description: 'Claude chat API: every HTTP route, SSE streaming',
    });
    this.handler.setSetting('authTokenHeader', tokenHeader);
    bindTable(this.handler, props.table);
    bindJobsQueue(this.handler, props.jobsQueue, 'send');
    bindSecret(this.handler, 'anthropicApiKeySecretArn', props.anthropicApiKey);
    if (props.jwtSecret) bindSecret(this.handler, 'jwtSecretArn', props.jwtSecret);
    bindSecret(this.handler, 'signingKeySecretArn', props.signingKey);

    this.functionUrl = this.handler.function.addFunctionUrl({
      authType,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
      ...(corsAllowedOrigins.length > 0 && {
        cors: {
          allowedOrigins: corsAllowedOrigins,
          allowedMethods: CORS_ALLOWED_METHODS.map((method) => lambda.HttpMethod[method]),
          allowedHeaders: corsAllowedHeaders(tokenHeader),
          exposedHeaders: CORS_EXPOSED_HEADERS,
          maxAge: Duration.hours(1),
        },
      }),
    });
  }
}
