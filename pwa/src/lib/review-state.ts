/**
 * The decisions of one review: one verdict per card, taken in order, with undo. A card decides one
 * change or a group of them (DESIGN 8); the decision map holds one verdict per change. Pure, so the
 * deck component stays a thin view over it. A deployment whose base and target differ only in order
 * has no changes; it still gets one card (ORDER_ONLY), whose verdict is the whole decision.
 */
import type { Verdict } from './protocol.js';

/** The one card of a deployment with no changes. */
export const ORDER_ONLY = '\u0000order-only';

/** Counts of a review so far, in changes. */
export type ReviewCounts = { total: number; approved: number; rejected: number; open: number };

/** A card of the deck: its id and the change ids it decides. */
export type DeckCard = { id: string; changes: readonly string[] };

/** Decisions over a fixed list of cards. */
export class ReviewState {
  /** The change ids of the deployment, in review order. */
  readonly ids: readonly string[];
  /** The card ids shown: one per card, or ORDER_ONLY when there are no changes. */
  readonly cards: readonly string[];
  private readonly members = new Map<string, readonly string[]>();
  private readonly cardOfChange = new Map<string, string>();
  private readonly verdicts = new Map<string, Verdict>();
  private readonly taken: string[] = [];
  /** The card in view; `cards.length` means the summary. */
  index = 0;

  /** `deck` is the cards in order; plain change ids make one card each. */
  constructor(deck: readonly (DeckCard | string)[]) {
    const cards = deck.map((c) => (typeof c === 'string' ? { id: c, changes: [c] } : c));
    this.ids = cards.flatMap((c) => c.changes);
    this.cards = cards.length > 0 ? cards.map((c) => c.id) : [ORDER_ONLY];
    for (const card of cards) {
      this.members.set(card.id, card.changes);
      for (const id of card.changes) this.cardOfChange.set(id, card.id);
    }
  }

  /** True once every card has a verdict. */
  get done(): boolean {
    return this.verdicts.size === this.cards.length;
  }

  /** The card in view, or null on the summary. */
  get current(): string | null {
    return this.cards[this.index] ?? null;
  }

  /** The change ids a card decides. */
  changesOf(card: string): readonly string[] {
    return this.members.get(card) ?? [];
  }

  /** The card that decides a change. */
  cardOf(change: string): string | undefined {
    return this.cardOfChange.get(change);
  }

  /** The verdict taken on one card. */
  verdictOf(card: string): Verdict | undefined {
    return this.verdicts.get(card);
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

  /** How many changes are approved, rejected and still open. */
  get counts(): ReviewCounts {
    if (this.ids.length === 0) {
      const v = this.verdicts.get(ORDER_ONLY);
      return {
        total: 1,
        approved: v === 'approve' ? 1 : 0,
        rejected: v === 'reject' ? 1 : 0,
        open: v === undefined ? 1 : 0,
      };
    }
    let approved = 0;
    let rejected = 0;
    for (const [card, v] of this.verdicts) {
      const n = this.changesOf(card).length;
      if (v === 'approve') approved += n;
      else rejected += n;
    }
    const total = this.ids.length;
    return { total, approved, rejected, open: total - approved - rejected };
  }

  /** The overall verdict of 5.4 row 11: approve exactly when every card is approved. */
  get verdict(): Verdict {
    return this.done && [...this.verdicts.values()].every((v) => v === 'approve')
      ? 'approve'
      : 'reject';
  }

  /** The decision map (5.4): every change id with its card's verdict (undecided ones count as rejected). */
  get changesClaim(): Record<string, Verdict> {
    const out: Record<string, Verdict> = {};
    for (const id of this.ids) {
      const card = this.cardOfChange.get(id);
      out[id] = (card !== undefined ? this.verdicts.get(card) : undefined) ?? 'reject';
    }
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
