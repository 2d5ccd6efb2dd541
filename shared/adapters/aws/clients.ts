import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Hooks a client before use, e.g. Tracer's `captureAWSv3Client`. */
export type Instrument = <T>(client: T) => T;

const asIs: Instrument = (client) => client;

/**
 * DynamoDB answers in milliseconds: a request still unanswered after this long is on a
 * dead connection, and the SDK retries it (the SDK's default is to wait forever, which
 * would hang a turn until the function's own timeout). Writes that may land twice this
 * way are conditioned so that the second landing is recognized (see DynamoUsageLedger).
 */
const DYNAMODB_REQUEST_TIMEOUT_MS = 3_000;
const DYNAMODB_CONNECTION_TIMEOUT_MS = 1_000;

/** @param endpoint set only on the local stack (DynamoDB Local) */
export function createDynamoDbClient(endpoint?: string, instrument = asIs): DynamoDBClient {
  const client = new DynamoDBClient({
    ...(endpoint && { endpoint }),
    requestHandler: {
      connectionTimeout: DYNAMODB_CONNECTION_TIMEOUT_MS,
      requestTimeout: DYNAMODB_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  });
  withoutSdkLogging(client);
  retryingTransactionConflicts(client);
  return instrument(client);
}

/**
 * A client on `client`'s connections that is never instrumented: for calls kept out of
 * traces. Sharing the request handler shares its keep-alive connections, so no second
 * TLS handshake is paid.
 */
export function createUninstrumentedTwin(
  client: DynamoDBClient,
  endpoint?: string,
): DynamoDBClient {
  const twin = new DynamoDBClient({
    ...(endpoint && { endpoint }),
    requestHandler: client.config.requestHandler,
  });
  withoutSdkLogging(twin);
  retryingTransactionConflicts(twin);
  return twin;
}

export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * @param endpoint set only on the local stack: the emulator's queue URLs name a host
 *   that does not resolve, so the client must be pointed at it explicitly.
 */
export function createSqsClient(endpoint?: string, instrument = asIs): SQSClient {
  return instrument(new SQSClient(endpoint ? { endpoint } : {}));
}

/**
 * The SDK's logger step copies every request's input and output through its sensitivity
 * filter on each call, even with no logger set, for a log line it then drops: message text
 * would be in it, and it costs the hot path CPU on every DynamoDB call.
 */
function withoutSdkLogging(client: DynamoDBClient): void {
  client.middlewareStack.remove('loggerMiddleware');
}

/**
 * A single write to an item a transaction is writing at that moment is refused with
 * TransactionConflictException, which the SDK takes for the caller's fault and never
 * retries (DynamoDB Local never raises it at all). It was not applied, so it is sent again
 * with the SDK's back-off, as a transient error. Placed inside the retry step: it marks the
 * error as the deserializer throws it.
 */
function retryingTransactionConflicts(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if ((error as Error | undefined)?.name === 'TransactionConflictException') {
          (error as { $retryable?: object }).$retryable = {};
        }
        throw error;
      }
    },
    { step: 'deserialize', priority: 'high', name: 'retryTransactionConflicts' },
  );
}
