import { truncateUtf8, utf8Bytes } from './tokens.js';

/**
 * Text streamed in pieces, kept up to `maxBytes` of UTF-8: the piece that would pass the
 * cap is cut between graphemes ({@link truncateUtf8}), and nothing is kept after it. What
 * reads a model's stream into one DynamoDB item (400 KB at most) stops there.
 */
export class CappedText {
  /** What was kept, at most `maxBytes` of UTF-8. */
  text = '';
  /** A piece was cut: the text is complete. */
  full = false;
  private bytes = 0;

  constructor(readonly maxBytes: number) {}

  /**
   * Adds a piece.
   * @returns the part of `piece` kept: all of it, or once the cap is reached a prefix (maybe
   *   empty), after which the text is full and the caller should stop reading
   */
  append(piece: string): string {
    if (this.full) return '';
    const pieceBytes = utf8Bytes(piece);
    if (this.bytes + pieceBytes <= this.maxBytes) {
      this.text += piece;
      this.bytes += pieceBytes;
      return piece;
    }
    const kept = truncateUtf8(piece, this.maxBytes - this.bytes);
    this.text += kept;
    this.bytes += utf8Bytes(kept);
    this.full = true;
    return kept;
  }
}
