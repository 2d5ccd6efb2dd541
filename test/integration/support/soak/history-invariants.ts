import type { SoakLog } from './soak-log.js';
import type { Item } from './table-scan.js';

/** Each conversation's history: no message twice, every question followed by its answer. */
export function historiesWellFormed(items: Item[]): string[] {
  const report: string[] = [];
  const messagesOf = new Map<string, Item[]>();
  for (const item of items.filter((i) => String(i.sk).startsWith('MSG#'))) {
    const list = messagesOf.get(String(item.pk)) ?? [];
    list.push(item);
    messagesOf.set(String(item.pk), list);
  }
  const metas = items.filter((i) => i.sk === 'META' && String(i.pk).includes('#CONV#'));
  for (const meta of metas) {
    const list = (messagesOf.get(String(meta.pk)) ?? []).sort(
      (x, y) => Number(x.seq) - Number(y.seq),
    );
    const ids = list.map((m) => String(m.id));
    if (new Set(ids).size !== ids.length) report.push(`duplicate message ids in ${meta.pk}`);
    list.forEach((m, i) => {
      if (m.role === 'user' && list[i + 1]?.role !== 'assistant') {
        report.push(`question ${m.id} (seq ${m.seq}) of ${meta.pk} without its answer`);
      }
    });
  }
  return report;
}

/**
 * Nothing shown is lost: each answer a client saw (outside deleted conversations) is stored,
 * and what it saw is a prefix of what was stored.
 */
export function shownIsStored(items: Item[], log: SoakLog): string[] {
  const report: string[] = [];
  const storedById = new Map(
    items.filter((i) => String(i.sk).startsWith('MSG#')).map((m) => [String(m.id), m]),
  );
  for (const s of log.shown) {
    if (log.deleted.has(s.conversationId)) continue;
    const stored = storedById.get(s.messageId);
    if (!stored) {
      report.push(
        `answer ${s.messageId} of ${s.userId}/${s.conversationId} shown ${JSON.stringify(s.text.slice(0, 40))} not stored`,
      );
    } else if (!String(stored.content).startsWith(s.text)) {
      report.push(
        `answer ${s.messageId} shown ${JSON.stringify(s.text)} is not a prefix of stored ${JSON.stringify(stored.content)} (${stored.stopReason})`,
      );
    }
  }
  return report;
}

/** No 5xx but where an upstream failure was asked for. */
export function noUnaskedFor5xx(log: SoakLog): string[] {
  return log.answered
    .filter((x) => x.status >= 500 && !x.faulted)
    .map((a) => `${a.status} on ${a.route}: ${a.body}`);
}
