/** What this browser can do: push, notifications, home-screen install. */

/** True on iPhone and iPad (including iPadOS that reports itself as a Mac). */
export function isIos(nav: Navigator = navigator): boolean {
  return (
    /iPhone|iPad|iPod/.test(nav.userAgent) ||
    (nav.userAgent.includes('Macintosh') && nav.maxTouchPoints > 1)
  );
}

/** True when running as an installed app (home screen), not in a browser tab. */
export function isStandalone(): boolean {
  return (
    matchMedia('(display-mode: standalone)').matches ||
    (navigator as Navigator & { standalone?: boolean }).standalone === true
  );
}

/** iOS only offers Web Push to apps on the home screen: in Safari the step must be explained. */
export function needsHomeScreen(): boolean {
  return isIos() && !isStandalone();
}

/** A device name to suggest: "iPhone", "Android phone", "Chrome on Linux"… */
export function suggestedDeviceName(nav: Navigator = navigator): string {
  const ua = nav.userAgent;
  if (/iPhone/.test(ua)) return 'iPhone';
  if (/iPad/.test(ua) || (ua.includes('Macintosh') && nav.maxTouchPoints > 1)) return 'iPad';
  const android = /Android[^;]*;\s*([^;)]+?)(?:\s+Build|\))/.exec(ua);
  if (android?.[1] !== undefined && android[1] !== 'K') return android[1].trim();
  if (/Android/.test(ua)) return 'Android phone';
  const browser = /Firefox/.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : 'Chrome';
  const os = /Windows/.test(ua) ? 'Windows' : /Mac OS/.test(ua) ? 'Mac' : 'Linux';
  return `${browser} on ${os}`;
}
