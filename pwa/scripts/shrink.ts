/** Keeping screenshots small in the repository. */
import { execFileSync } from 'node:child_process';

/** Quantises a PNG in place with pngquant, when it is installed. */
export function shrink(file: string): void {
  try {
    execFileSync('pngquant', [
      '--force',
      '--skip-if-larger',
      '--quality',
      '65-95',
      '--ext',
      '.png',
      file,
    ]);
  } catch {
    // No pngquant, or no gain: keep the PNG as it is.
  }
}
