/**
 * The cards of a review (DESIGN 8): a flow or subflow added or removed whole is decided on one card,
 * and so are a flow's low-risk changes; every other change, every high-risk one among them, keeps
 * its own card. A group's verdict is the verdict of each change it holds, so the decision map still
 * has one verdict per change.
 */
import type { Change, FlowRef } from '../lib/protocol.js';

/** One card of the deck: the changes it decides, in the change list's order. */
export type ReviewCard =
  | { kind: 'single'; id: string; changes: [string] }
  | {
      kind: 'whole';
      id: string;
      /** The flow or subflow change itself. */
      subject: string;
      container: 'flow' | 'subflow';
      op: 'added' | 'removed';
      flow: FlowRef;
      changes: string[];
    }
  | { kind: 'low'; id: string; flow: FlowRef | null; changes: string[] };

/** The card id of the group that decides a whole flow or subflow; never a change id. */
export function wholeCardId(subject: string): string {
  return `group:${subject}`;
}

/** The card id of a flow's low-risk group (`global` for global configuration). */
export function lowCardId(flowId: string | null): string {
  return `group:low:${flowId ?? 'global'}`;
}

/** The key of the flow a change sits in. */
function flowKey(change: Change): string {
  return change.flow === null ? '\u0000global' : change.flow.id;
}

/**
 * The cards for `changes`, in the order of their first change: whole flows first claim what they
 * hold (their nodes added or removed with them), then each flow's low-risk changes are grouped when
 * there are two or more. Every change is on exactly one card.
 */
export function reviewCards(changes: readonly Change[]): ReviewCard[] {
  const claimed = new Map<string, ReviewCard>();
  const wholes = new Map<string, Extract<ReviewCard, { kind: 'whole' }>>();
  for (const change of changes) {
    if (
      (change.kind === 'flow' || change.kind === 'subflow') &&
      change.op !== 'changed' &&
      change.node !== undefined &&
      !wholes.has(change.node.id)
    ) {
      wholes.set(change.node.id, {
        kind: 'whole',
        id: wholeCardId(change.id),
        subject: change.id,
        container: change.kind,
        op: change.op,
        flow: change.flow ?? { id: change.node.id, label: change.node.id },
        changes: [],
      });
    }
  }
  for (const change of changes) {
    if (change.flow === null) continue;
    const whole = wholes.get(change.flow.id);
    // Only what came or went with the flow: a node moved into a new tab keeps its own card.
    if (whole === undefined || (change.op !== whole.op && change.id !== whole.subject)) continue;
    whole.changes.push(change.id);
    claimed.set(change.id, whole);
  }

  // A flow that came or went empty is one change: its own card.
  for (const whole of wholes.values()) {
    if (whole.changes.length === 1) claimed.delete(whole.subject);
  }

  const lows = new Map<string, Change[]>();
  for (const change of changes) {
    if (claimed.has(change.id) || change.risk !== 'low') continue;
    const key = flowKey(change);
    lows.set(key, [...(lows.get(key) ?? []), change]);
  }
  for (const members of lows.values()) {
    if (members.length < 2) continue;
    const first = members[0]!;
    const card: ReviewCard = {
      kind: 'low',
      id: lowCardId(first.flow?.id ?? null),
      flow: first.flow,
      changes: members.map((c) => c.id),
    };
    for (const member of members) claimed.set(member.id, card);
  }

  const out: ReviewCard[] = [];
  const placed = new Set<ReviewCard>();
  for (const change of changes) {
    const card = claimed.get(change.id);
    if (card === undefined) out.push({ kind: 'single', id: change.id, changes: [change.id] });
    else if (!placed.has(card)) {
      placed.add(card);
      out.push(card);
    }
  }
  return out;
}
