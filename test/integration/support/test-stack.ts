import { inject } from 'vitest';
import { type Product, type ProductOptions, startProduct } from '../../../local-stack/product.js';

export type TestStack = Product;
export type TestStackOptions = Omit<ProductOptions, 'dynamodbEndpoint' | 'sqsEndpoint'>;

/** The product for one test file, on the emulators the global setup started. */
export function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  return startProduct({
    ...options,
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    sqsEndpoint: inject('sqsEndpoint'),
  });
}
