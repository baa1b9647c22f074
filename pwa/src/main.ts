/**
 * Entry point: the app shell, and the service worker registered with workbox-window. A new version
 * waits; the person is asked, and only outside a review, before the page reloads onto it.
 */
import { Workbox } from 'workbox-window';
import './styles/app.css';
import './components/cs-app.js';

const app = document.querySelector('cs-app');

if ('serviceWorker' in navigator && app !== null) {
  const wb = new Workbox('./sw.js', { scope: './' });
  wb.addEventListener('waiting', () => {
    app.updateReady = true;
  });
  app.addEventListener('update-accepted', () => {
    // Reload once the new worker controls the page, and only because the person asked.
    wb.addEventListener('controlling', () => location.reload());
    wb.messageSkipWaiting();
  });
  void wb.register().catch((error: unknown) => {
    console.warn('Service worker registration failed', error);
  });
}
