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
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly save: (piece: Piece) => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly intervalMs: number,
  ) {}

  begin(usage: TokenUsage): void {
    this.usage = usage;
    this.enqueue({ offset: 0, text: '', usage });
    this.timer = setInterval(() => this.flush(), this.intervalMs);
  }

  add(text: string): void {
    this.pending += text;
  }

  /** Stops saving; resolves once the saves under way are done. */
  end(): Promise<void> {
    clearInterval(this.timer);
    return this.saving;
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
