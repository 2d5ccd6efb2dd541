/** A 1×1 PNG, base64. */
export const TINY_PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

/**
 * A valid one-page PDF (catalog, pages, page, content stream, xref table and trailer),
 * its stream padded with `paddingBytes` spaces to reach a given size.
 */
export function tinyPdf(paddingBytes = 0): Buffer {
  const content = `BT /F1 12 Tf 20 100 Td (Hello) Tj ET${' '.repeat(paddingBytes)}`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
  ];
  let pdf = '%PDF-1.4\n';
  const offsets = objects.map((body, index) => {
    const offset = pdf.length;
    pdf += `${index + 1} 0 obj\n${body}\nendobj\n`;
    return offset;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

/** A directive in the text of a message. */
export const directive = (text: string) => `[[local-claude: ${text}]]`;

/** Headers for calling the local Claude with fetch. */
export const API_HEADERS = {
  'x-api-key': 'test',
  'anthropic-version': '2023-06-01',
  'content-type': 'application/json',
};
