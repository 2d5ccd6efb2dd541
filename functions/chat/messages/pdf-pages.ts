/** The bytes a PDF reads as white space (ISO 32000-1, 7.2.2): NUL, tab, line feed, form feed, carriage return, space. */
const PDF_WHITE_SPACE = new Set(['\0', '\t', '\n', '\f', '\r', ' ']);

/**
 * Page objects a base64 PDF shows in the clear; undefined when it has none, or has
 * compressed object streams, where pages (of a later revision, say) may sit unseen.
 */
export function countPdfPages(base64: string): number | undefined {
  // A name may spell a character as #xx (`/Pag#65` is `/Page`): read names as a PDF reader does.
  const pdf = Buffer.from(base64, 'base64')
    .toString('latin1')
    .replace(/#([0-9a-fA-F]{2})/g, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
  let pages = 0;
  for (const type of typeNames(pdf)) {
    if (type === 'ObjStm') return undefined;
    if (type === 'Page') pages++;
  }
  return pages > 0 ? pages : undefined;
}

/**
 * The name of each `/Type /<name>` entry, white space or comments (each to the end of its
 * line) between them, in one pass: a `/Type` inside the comments skipped after another is
 * not looked at again (a regex trying from each would take hours on a few MB of them).
 */
function* typeNames(pdf: string): Generator<string> {
  let from = 0;
  for (;;) {
    const at = pdf.indexOf('/Type', from);
    if (at === -1) return;
    let i = at + '/Type'.length;
    for (;;) {
      if (PDF_WHITE_SPACE.has(pdf[i]!)) i++;
      else if (pdf[i] === '%') i = endOfLine(pdf, i);
      else break;
    }
    from = i;
    if (pdf[i] !== '/') continue;
    let end = i + 1;
    while (/[a-zA-Z]/.test(pdf[end] ?? '')) end++;
    yield pdf.slice(i + 1, end);
  }
}

/** Where the line that `i` is on ends: at its carriage return or line feed, or the end of the text. */
function endOfLine(text: string, i: number): number {
  let end = i;
  while (end < text.length && text[end] !== '\n' && text[end] !== '\r') end++;
  return end;
}
