/**
 * The app icon, drawn once as SVG: a bold check mark signed off with a pen stroke on an indigo tile.
 * `full` fills the whole square (maskable and Apple icons, where the platform cuts the shape);
 * otherwise the tile has rounded corners and a transparent margin.
 */
export function iconSvg(options: { full?: boolean; size?: number } = {}): string {
  const size = options.size ?? 512;
  const full = options.full ?? false;
  // Maskable icons keep their mark inside the central 80% circle: scale it down around the centre.
  const markScale = full ? 0.78 : 1;
  const tile = full
    ? '<rect width="512" height="512" fill="url(#bg)"/>'
    : '<rect x="16" y="16" width="480" height="480" rx="112" fill="url(#bg)"/>';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 512 512">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#4257d6"/>
      <stop offset="1" stop-color="#1f2a72"/>
    </linearGradient>
    <linearGradient id="ink" x1="0" y1="0" x2="1" y2="0">
      <stop offset="0" stop-color="#7ef0b4"/>
      <stop offset="1" stop-color="#3ddc97"/>
    </linearGradient>
  </defs>
  ${tile}
  <g transform="translate(256 246) scale(${markScale}) translate(-256 -256)">
    <path d="M150 236 L226 310 L372 150" fill="none" stroke="#ffffff" stroke-width="50"
      stroke-linecap="round" stroke-linejoin="round"/>
    <path d="M132 382 C 176 352, 204 404, 246 378 S 316 350, 380 376" fill="none"
      stroke="url(#ink)" stroke-width="22" stroke-linecap="round"/>
  </g>
</svg>`;
}

/** The monochrome badge Android shows in the status bar: the mark alone, white on transparent. */
export function badgeSvg(size = 96): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 512 512">
  <g transform="translate(256 246) scale(1.18) translate(-256 -256)">
    <path d="M150 236 L226 310 L372 150" fill="none" stroke="#ffffff" stroke-width="56"
      stroke-linecap="round" stroke-linejoin="round"/>
    <path d="M132 382 C 176 352, 204 404, 246 378 S 316 350, 380 376" fill="none"
      stroke="#ffffff" stroke-width="30" stroke-linecap="round"/>
  </g>
</svg>`;
}
