/** Writes docs/job-message.schema.json from the zod schema, the one source of truth. */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { JobMessageSchema } from '../shared/jobs/job-message.js';

export function jobMessageJsonSchema(): string {
  const schema = z.toJSONSchema(JobMessageSchema, { target: 'draft-2020-12' });
  return `${JSON.stringify({ $id: 'job-message.schema.json', title: 'Job message', ...schema }, null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(
    new URL('../docs/job-message.schema.json', import.meta.url),
    jobMessageJsonSchema(),
  );
  console.log('wrote docs/job-message.schema.json');
}
