/**
 * The decisions of one review: one verdict per card, taken in order, with undo. Pure, so the deck
 * component stays a thin view over it. A deployment whose base and target differ only in order has
 * no changes; it still gets one card (ORDER_ONLY), whose verdict is the whole decision.
 */
import type { Verdict } from './protocol.js';

/** The one card of a deployment with no changes. */
export const ORDER_ONLY = '\u0000order-only';

/** Counts of a review so far. */
export type ReviewCounts = { total: number; approved: number; rejected: number; open: number };

/** Decisions over a fixed list of change ids. */
export class ReviewState {
  /** The change ids of the deployment, in review order. */
  readonly ids: readonly string[];
  /** The cards shown: the ids, or ORDER_ONLY when there are none. */
  readonly cards: readonly string[];
  private readonly verdicts = new Map<string, Verdict>();
  private readonly taken: string[] = [];
  /** The card in view; `cards.length` means the summary. */
  index = 0;

  constructor(ids: readonly string[]) {
    this.ids = ids;
    this.cards = ids.length > 0 ? ids : [ORDER_ONLY];
  }

  /** True once every card has a verdict. */
  get done(): boolean {
    return this.verdicts.size === this.cards.length;
  }

  /** The card in view, or null on the summary. */
  get current(): string | null {
    return this.cards[this.index] ?? null;
  }

  /** The verdict taken on one card. */
  verdictOf(id: string): Verdict | undefined {
    return this.verdicts.get(id);
  }

  /** Decides the card in view and moves to the next undecided one (or the summary). */
  decide(verdict: Verdict): void {
    const id = this.current;
    if (id === null) return;
    this.verdicts.set(id, verdict);
    this.taken.push(id);
    this.index = this.nextOpen(this.index + 1);
  }

  /** True when there is a decision to undo. */
  get canUndo(): boolean {
    return this.taken.length > 0;
  }

  /** Takes back the last decision and shows its card again. */
  undo(): string | null {
    const id = this.taken.pop();
    if (id === undefined) return null;
    this.verdicts.delete(id);
    this.index = this.cards.indexOf(id);
    return id;
  }

  /** Shows one card again (from the summary) so its verdict can be changed. */
  revisit(id: string): void {
    const at = this.cards.indexOf(id);
    if (at < 0) return;
    this.verdicts.delete(id);
    const pos = this.taken.lastIndexOf(id);
    if (pos >= 0) this.taken.splice(pos, 1);
    this.index = at;
  }

  /** How many cards are approved, rejected and still open. */
  get counts(): ReviewCounts {
    let approved = 0;
    let rejected = 0;
    for (const v of this.verdicts.values()) {
      if (v === 'approve') approved++;
      else rejected++;
    }
    const total = this.cards.length;
    return { total, approved, rejected, open: total - approved - rejected };
  }

  /** The overall verdict of 5.4 row 11: approve exactly when every card is approved. */
  get verdict(): Verdict {
    return this.done && this.counts.rejected === 0 ? 'approve' : 'reject';
  }

  /** The decision map (5.4): every change id with its verdict (undecided ones count as rejected). */
  get changesClaim(): Record<string, Verdict> {
    const out: Record<string, Verdict> = {};
    for (const id of this.ids) out[id] = this.verdicts.get(id) ?? 'reject';
    return out;
  }

  private nextOpen(from: number): number {
    for (let i = from; i < this.cards.length; i++) if (!this.verdicts.has(this.cards[i]!)) return i;
    for (let i = 0; i < from && i < this.cards.length; i++) {
      if (!this.verdicts.has(this.cards[i]!)) return i;
    }
    return this.cards.length;
  }
}
