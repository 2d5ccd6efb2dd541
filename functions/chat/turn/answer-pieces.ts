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
 * first text. Saves run one at a time, in order; a failed save is reported and its text
 * goes again with the next piece, at the same offset: a hole would cut words out of what a
 * resumed stream and a recovered answer read, and shift every offset after it. Pieces are
 * a safety net: the finished answer is stored whole.
 */
export class AnswerPieces {
  /** Where the text not yet saved starts. */
  private offset = 0;
  /** The text not yet saved. */
  private pending = '';
  private usage: TokenUsage | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The first piece, until it is handed to `save`. */
  private starting: { piece: Piece; immediate: NodeJS.Immediate } | undefined;
  private saving: Promise<void> = Promise.resolve();
  /** Whether a save of the unsaved text waits its turn. */
  private flushWaiting = false;

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

  /**
   * After `end`: saves the text not saved yet, the tail of what the user was shown (all of a
   * short answer), for the recovery to store when the answer itself could not be.
   */
  saveRest(): Promise<void> {
    this.enqueue(() => this.saveUnsaved());
    return this.saving;
  }

  private saveStartingPiece(): void {
    if (!this.starting) return;
    clearImmediate(this.starting.immediate);
    const { piece } = this.starting;
    this.enqueue(() => this.save(piece));
    this.starting = undefined;
  }

  private flush(): void {
    // One waiting is enough, as it reads the text when its turn comes: one per interval a
    // save hung would go back to back, the unsaved text each time, once it failed.
    if (!this.pending || this.flushWaiting) return;
    this.flushWaiting = true;
    this.enqueue(() => this.saveUnsaved());
  }

  /** The text not saved yet, read when its turn comes: a failed piece's text is in it. */
  private async saveUnsaved(): Promise<void> {
    this.flushWaiting = false;
    const text = this.pending;
    if (!text) return;
    await this.save({
      offset: this.offset,
      text,
      ...(this.offset === 0 && this.usage && { usage: this.usage }),
    });
    this.offset += text.length;
    this.pending = this.pending.slice(text.length);
  }

  private enqueue(save: () => Promise<void>): void {
    this.saving = this.saving.then(save).catch(this.onError);
  }
}
