import type { TokenUsage } from '../../../shared/domain/usage.js';

export interface Piece {
  offset: number;
  text: string;
  usage?: TokenUsage;
}

/**
 * Saves an answer as it streams, a piece every `intervalMs`, so that what the user was
 * shown outlives the function that showed it. The first piece, at offset 0, is saved as
 * soon as the answer starts, with the usage Claude reported then, and again with its
 * first text. Saves run one at a time, in order; a failed save is reported and the next
 * piece still goes. Pieces are a safety net: the finished answer is stored whole.
 */
export class AnswerPieces {
  private offset = 0;
  private pending = '';
  private usage: TokenUsage | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The first piece, until it is handed to `save`. */
  private starting: { piece: Piece; immediate: NodeJS.Immediate } | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly save: (piece: Piece) => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs: number,
  ) {}

  begin(usage: TokenUsage): void {
    this.usage = usage;
    // Once this turn of the event loop is over: the answer's first bytes, which Claude sends
    // with its start, go out before the save's work (an AWS SDK call costs as much CPU).
    const piece = { offset: 0, text: '', usage };
    this.starting = { piece, immediate: setImmediate(() => this.saveStartingPiece()) };
    this.timer = setInterval(() => this.flush(), this.intervalMs);
  }

  add(text: string): void {
    this.pending += text;
  }

  /** Stops saving; resolves once the saves under way are done. */
  end(): Promise<void> {
    clearInterval(this.timer);
    this.saveStartingPiece();
    return this.saving;
  }

  private saveStartingPiece(): void {
    if (!this.starting) return;
    clearImmediate(this.starting.immediate);
    this.enqueue(this.starting.piece);
    this.starting = undefined;
  }

  private flush(): void {
    if (!this.pending) return;
    const piece: Piece = {
      offset: this.offset,
      text: this.pending,
      ...(this.offset === 0 && this.usage && { usage: this.usage }),
    };
    this.offset += this.pending.length;
    this.pending = '';
    this.enqueue(piece);
  }

  private enqueue(piece: Piece): void {
    this.saving = this.saving.then(() => this.save(piece)).catch(this.onError);
  }
}
