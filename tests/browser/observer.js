// Injected by the browser tests into each tab (WebDriver scripts are not
// subject to the page's CSP). It records, with Date.now(), what the person in
// front of that tab would see, into localStorage under `obs:<tab>`, so the
// test reads every tab's story from one tab: switching tabs would itself be
// activity (it fires visibilitychange and focus).
const tab = arguments[0];
const key = 'obs:' + tab;
const log = (event, detail) => {
  const entries = JSON.parse(localStorage.getItem(key) || '[]');
  entries.push({ event, at: Date.now(), detail: detail === undefined ? null : detail });
  localStorage.setItem(key, JSON.stringify(entries));
};
const warning = document.getElementById('session_security_warning');
const counter = document.getElementById('session_security_counter');
const cover = document.getElementById('session_security_cover');
const visible = (el) => !!el && !el.hidden && getComputedStyle(el).display !== 'none';
if (warning) {
  new MutationObserver(() => {
    if (visible(warning)) {
      log('warning-shown', counter ? counter.textContent : null);
      setTimeout(() => log('counter', counter ? counter.textContent : null), 1100);
    } else {
      log('warning-hidden');
    }
  }).observe(warning, { attributes: true, attributeFilter: ['hidden', 'class'] });
}
if (cover) {
  new MutationObserver(() => log(visible(cover) ? 'cover-shown' : 'cover-hidden')).observe(cover, { attributes: true });
}
for (const name of ['warn', 'extend']) {
  document.addEventListener('session-security:' + name, () => log(name));
}
// The script's word on why: recorded as JSON.
for (const name of ['expire', 'unreachable', 'reachable']) {
  document.addEventListener('session-security:' + name, (e) => log(name, e.detail ? JSON.stringify(e.detail) : null));
}
// What a screen reader hears from the live region, each time its text changes.
const announcer = document.getElementById('session_security_announcer');
if (announcer) {
  new MutationObserver(() => log('announced', announcer.textContent)).observe(announcer, { childList: true, characterData: true, subtree: true });
}
// The text left in the page once the session is over (the page's own listeners ran first).
document.addEventListener('session-security:expire', () => log('text-at-expiry', document.body.textContent));
window.addEventListener('pagehide', () => log('leave', location.pathname));
// Restored from the back/forward cache: what the person sees at once ('hidden' also when the
// page's content is out of the DOM).
window.addEventListener('pageshow', (e) => {
  const main = document.querySelector('main');
  const seen = !!main && main.getClientRects().length > 0 && getComputedStyle(main).visibility !== 'hidden';
  if (e.persisted) log('restored', seen ? 'visible' : 'hidden');
});
log('start', location.pathname);
return true;
