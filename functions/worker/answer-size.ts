/**
 * The most text a job's model call keeps, in UTF-8 bytes (~80,000 tokens of English); an
 * answer that reaches it ends there, as `max_tokens`, whatever `summaryMaxTokens` allows.
 *
 * Every answer is stored in one DynamoDB item, and an item holds at most 400 KB, names and
 * keys included (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html):
 * a part's summary in its `CKPT#` item (keys, `createdAt`, `expiresAt`: under 1 KB more); a
 * document's summary in its job item (ids of at most 128 characters, status, timestamps,
 * usage, progress, a conflict note of at most ~1 KB: under 4 KB more; `error` and `batch`
 * are removed by the same write); a conversation's summary in its conversation item (title
 * of 80 characters, counters, the active turn's hold: ~2 KB, and ~20 bytes per range a
 * regenerate or an edit superseded, at most MAX_SUPERSEDED_RANGES of them). The 50,000
 * bytes left hold all of that; a conversation that could not take its summary all the
 * same fails its compaction for good instead of paying for it again (job-errors.ts).
 * The same cap as a chat answer's (functions/chat/turn/collect-answer.ts), for the same item limit.
 */
export const MAX_JOB_ANSWER_BYTES = 350_000;
