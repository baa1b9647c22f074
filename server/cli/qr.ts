import { generate } from 'lean-qr';

/**
 * A QR code for a terminal: two modules per character with half blocks, light modules drawn (so it
 * reads on dark terminals, which are most), with a quiet zone of 2 modules.
 */
export function terminalQr(text: string): string {
  const code = generate(text);
  const pad = 2;
  const light = (x: number, y: number): boolean =>
    x < 0 || y < 0 || x >= code.size || y >= code.size || !code.get(x, y);
  const lines: string[] = [];
  for (let y = -pad; y < code.size + pad; y += 2) {
    let line = '';
    for (let x = -pad; x < code.size + pad; x++) {
      const top = light(x, y);
      const bottom = y + 1 < code.size + pad ? light(x, y + 1) : false;
      line += top && bottom ? '█' : top ? '▀' : bottom ? '▄' : ' ';
    }
    lines.push(line);
  }
  return lines.join('\n');
}
