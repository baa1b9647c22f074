/** Short, human times for small screens: "in 23 h", "5 min ago". */

const UNITS: Array<[number, string]> = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'min'],
];

function span(ms: number): string {
  for (const [size, unit] of UNITS) if (ms >= size) return `${Math.floor(ms / size)} ${unit}`;
  return `${Math.max(0, Math.floor(ms / 1000))} s`;
}

/** "in 3 h" for a future time, "expired" when past. */
export function untilText(iso: string | null, now = Date.now()): string {
  if (iso === null) return 'no expiry';
  const ms = Date.parse(iso) - now;
  return ms <= 0 ? 'expired' : `in ${span(ms)}`;
}

/** "5 min ago", or "just now". */
export function agoText(iso: string, now = Date.now()): string {
  const ms = now - Date.parse(iso);
  return ms < 45_000 ? 'just now' : `${span(ms)} ago`;
}

/** A local date and time, short. */
export function dateText(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, {
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
      });
}
