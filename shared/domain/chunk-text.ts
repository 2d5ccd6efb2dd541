import { estimateTokens, estimateTokensOfBytes, utf8Bytes } from './tokens.js';

/**
 * Splits text into parts of at most `maxTokens` (estimated), cutting at paragraph,
 * then line, then sentence, then word boundaries where it can.
 */
export function chunkText(text: string, maxTokens: number): string[] {
  if (estimateTokens(text) <= maxTokens) return [text];
  const separators = ['\n\n', '\n', '. ', ' '];
  for (const separator of separators) {
    const pieces = text.split(separator);
    if (pieces.length < 2) continue;
    const separatorBytes = utf8Bytes(separator);
    const chunks: string[] = [];
    let current = '';
    // Counted as it grows: measuring the whole chunk for each piece took seconds for 1 MB.
    let currentBytes = 0;
    for (const piece of pieces) {
      const pieceBytes = utf8Bytes(piece);
      const candidateBytes = current ? currentBytes + separatorBytes + pieceBytes : pieceBytes;
      if (estimateTokensOfBytes(candidateBytes) <= maxTokens || !current) {
        current = current ? `${current}${separator}${piece}` : piece;
        currentBytes = candidateBytes;
      } else {
        chunks.push(current);
        current = piece;
        currentBytes = pieceBytes;
      }
    }
    if (current) chunks.push(current);
    return chunks.flatMap((chunk) => chunkText(chunk, maxTokens));
  }
  // One unbroken run of characters: cut it by size (UTF-8 bytes), between code points.
  const maxBytes = maxTokens * 4;
  const chunks: string[] = [];
  let current = '';
  let bytes = 0;
  for (const character of text) {
    const size = utf8Bytes(character);
    if (current && bytes + size > maxBytes) {
      chunks.push(current);
      current = '';
      bytes = 0;
    }
    current += character;
    bytes += size;
  }
  if (current) chunks.push(current);
  return chunks;
}
