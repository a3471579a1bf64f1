// rocket_session_security, browser side: warns an idle user, counts down, then signs them
// out (leaves for the login page), and keeps every tab of the site in step.
//
// Structure
// - Core(config, env): the timing core, pure. No DOM: the clock, the network, the shared
//   store, the leader flag and the UI all come through env, so tests/js drive it with a
//   fake clock, a fake server and fake tabs.
// - plural, nextUrl: pure text helpers. These three are exported for node (tests/js).
// - The tab layer (after the export; it runs only in a page whose script tag carries the
//   config as data-* attributes): the dialog and its countdown, activity listeners, the
//   leader election and the messages between tabs.
//
// Server: POST {pingUrl}?idle_for=<seconds idle here> answers
//   {state: 'active', idle_for, warn_after, expire_after} (the server's own idle time and
//   the user's timeouts, in seconds), {state: 'expired' | 'anonymous'} or 401.
//
// Shared state (Core's state), the same in every tab; times in ms since the epoch:
//   lastActivity    the user's last activity, in any tab
//   serverActivity  the last activity the server confirmed (now - its idle_for; the local
//                   one while it is unreachable)
//   lastAnswer      when the last ping settled, answered or not
//   warnAfterMs, expireAfterMs  the timeouts; the server's per-user values win
//   signedOutAt     when a tab expired or signed out (0: never)
// Tabs merge it by keeping the newest of each time, never one in the future.
//
// Between tabs (same script version on both ends, so the format is free to change):
//   BroadcastChannel 'session-security': the whole state object, whenever this tab changes it;
//   localStorage 'session_security.state': the same, as JSON, read back by a tab that
//     missed messages (asleep, throttled) and used for storage events without a channel;
//   Web Lock 'session_security.leader': held by the leader tab, the one that pings;
//   localStorage 'session_security.leader': {holder, at}, the lease used without Web Locks.
//
// For the page's own code (single-page apps):
//   window.sessionSecurity.activity()  count activity now (e.g. while media plays)
//   window.sessionSecurity.extend()    ask the server to extend; a Promise of true while signed in
//   window.sessionSecurity.signOut()   sign out every tab through the logout URL
//   events on document: 'session-security:warn' (detail.secondsLeft, when the warning opens),
//   'session-security:extend' (the warning closed on activity), 'session-security:expire'.
//   On expiry <html> gets the class session_security_expired; the crate's stylesheet hides the
//   page for it, a page without that stylesheet must do the same.
(() => {
const {max, min, floor} = Math

function Core(config, env) {
  const now = env.now, ui = env.ui, start = now()
  const state = {lastActivity: start, serverActivity: start, lastAnswer: start,
    warnAfterMs: config.warnAfter * 1e3, expireAfterMs: config.expireAfter * 1e3, signedOutAt: 0}
  // signedOut: the session ended for this tab; covered: the tab stays on the page under the
  // cover, to keep unsaved input, instead of leaving. veiledOnWake: the page is hidden after a
  // wake past the deadline, until the server answers. lastRevive: when a covered tab last asked.
  let timer, pingsInFlight = 0, signedOut = 0, covered = 0, veiledOnWake = 0, lastRevive = 0
  // The warning stands once a ping settled at or after lastActivity + warnAfterMs.
  const inWarning = () => state.lastAnswer >= state.lastActivity + state.warnAfterMs
  const idleSeconds = () => floor((now() - state.lastActivity) / 1e3)
  // Followers check 4 s after the leader would: normally the leader pings for all, and its
  // shared answer moves their deadlines on; if it is gone or frozen, a follower steps in.
  const followerLag = () => env.isLeader() ? 0 : 4e3
  const share = () => env.send({...state})
  // When the next check is due:
  // - warning shown: expiry, 250 ms after the server's own deadline, so that the server
  //   agrees (401) at the first ask: never early, two pings per idle cycle;
  // - activity the server has not heard of (beyond the 1 s of its whole-second stamps): a
  //   keepalive once the server sees warnAfter of idleness, well before it could expire;
  // - else: the warning check at lastActivity + warnAfter.
  // And at most one ping per 2 s whatever the server answers (one ignoring idle_for would
  // otherwise cause a ping storm).
  const nextCheckAt = () => max(inWarning()
      ? state.serverActivity + state.expireAfterMs + 250
      : (state.lastActivity > state.serverActivity + 1e3 ? state.serverActivity : state.lastActivity) + state.warnAfterMs,
    state.lastAnswer + 2e3)
  // Merges another tab's state: the newest of each time wins, but none in the future: a time
  // ahead of this tab's clock (another tab's runs ahead if the system clock was set back since
  // it started; junk in the store) would hold off the deadlines.
  const adopt = other => {
    const time = now()
    // The timeouts come with the newest server answer; only a sane pair is taken.
    if (other?.lastAnswer > state.lastAnswer && other.expireAfterMs > other.warnAfterMs) state.warnAfterMs = other.warnAfterMs, state.expireAfterMs = other.expireAfterMs
    if (other) for (const key of ['lastActivity', 'serverActivity', 'lastAnswer', 'signedOutAt']) state[key] = max(state[key], min(+other[key] || 0, time))
  }
  const arm = () => {
    clearTimeout(timer)
    // No timer while signed out, nor while a ping is out (its settle re-arms). The cap:
    // setTimeout fires at once beyond 2^31 - 1 ms.
    if (!signedOut && !pingsInFlight) timer = setTimeout(check, min(max(nextCheckAt() - now(), 0) + followerLag(), 2e9))
  }
  // Applies the state: sign-out, timer, warning. fromOtherTab: a message was just merged.
  const update = fromOtherTab => {
    // Signed out, yet activity after the sign-out: maybe signed in again in another tab.
    if (signedOut) return fromOtherTab && state.lastActivity > state.signedOutAt && revive()
    // Another tab expired or signed out since the last activity.
    if (state.signedOutAt >= state.lastActivity) return expire(1)
    arm()
    // The countdown runs to the server's deadline.
    inWarning() ? ui.show(state.serverActivity + state.expireAfterMs) : ui.hide()
  }
  // The timer. The shared state is read first: a frozen or throttled tab misses messages.
  function check() {
    adopt(env.load())
    update()
    if (!signedOut && !pingsInFlight && now() >= nextCheckAt() + followerLag()) ping(idleSeconds())
  }
  const ping = idleFor => {
    clearTimeout(timer)
    pingsInFlight++
    return env.fetch(config.pingUrl + '?idle_for=' + idleFor, {method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: {Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest'}})
      // 401: expired. Any other error, a non-JSON answer or no network: unreachable (falsy).
      .then(r => r.status == 401 ? {state: 'expired'} : r.ok && r.json()).catch(() => 0).then(settle)
  }
  const settle = answer => {
    pingsInFlight--
    adopt(env.load())
    const time = now(), active = answer?.state == 'active' && answer.idle_for >= 0
    // Covered, yet active: signed in again elsewhere. The cover goes; resuming is activity.
    if (active && covered) signedOut = covered = 0, state.lastActivity = time
    if (signedOut) return
    // Expired or anonymous: expire. Unreachable (or an unknown answer): only once the local
    // idle time reaches expireAfter.
    if (/^(expired|anonymous)$/.test(answer?.state) || !active && time - state.lastActivity >= state.expireAfterMs) return expire()
    veiledOnWake = 0
    ui.veil(0)
    // The user's own timeouts replace the page's.
    if (active && answer.expire_after > answer.warn_after) state.warnAfterMs = answer.warn_after * 1e3, state.expireAfterMs = answer.expire_after * 1e3
    // Unreachable: the local clock stands in for the server's.
    const seen = active ? time - answer.idle_for * 1e3 : state.lastActivity
    state.serverActivity = max(state.serverActivity, seen)
    // The server saw later activity (another device, a page load): adopt it. Its stamps are
    // whole seconds, so only activity more than 1 s later counts.
    if (seen > state.lastActivity + 1e3) state.lastActivity = seen
    state.lastAnswer = time
    share()
    update()
  }
  // The session ended: here (expiry: recorded and shared) or in another tab (fromOtherTab).
  // quiet: this tab signs out and navigates by itself, no UI.
  const expire = (fromOtherTab, quiet) => {
    if (signedOut) return
    signedOut = 1
    clearTimeout(timer)
    if (!fromOtherTab) state.signedOutAt = now(), share()
    // true: the tab stays, covered, to keep unsaved input.
    if (!quiet && ui.expire(fromOtherTab)) covered = 1
  }
  // Covered: the user may sign in again in another tab. Ask the server, at most every 3 s.
  const revive = () => {
    const time = now()
    if (covered && time - lastRevive >= 3e3) lastRevive = time, ping(idleSeconds())
  }
  // "Stay signed in": activity now, shared at once (the warning goes in every tab), then told
  // to the server. Resolves true if still signed in.
  const extend = () => {
    if (!signedOut && !veiledOnWake) state.lastActivity = now(), share(), update()
    return ping(0).then(() => !signedOut)
  }
  // At most one shared write per second. Veiled, the session may be over: no activity counts.
  // During the warning, activity must reach the server: extend.
  const noteActivity = () => {
    if (!signedOut && !veiledOnWake && now() - state.lastActivity >= 1e3) inWarning() ? extend() : (state.lastActivity = now(), share(), update())
  }
  // A page load is activity the server saw: the other tabs adopt it.
  share()
  update()
  return {state, noteActivity, extend, arm,
    // This tab signs out: recorded and shared; the tab layer navigates.
    signOut: () => expire(0, 1),
    // A message from another tab.
    merge: other => { adopt(other); update(1) },
    // Back to the tab (focus, visibility): its timers may not have run (sleep, throttling).
    wake() {
      if (veiledOnWake) return
      adopt(env.load())
      if (signedOut) return revive()
      // The state first, then the wake as activity: the other order would mask a sign-out
      // in another tab (activity after it reads as a new sign-in).
      if (now() - state.lastActivity < state.expireAfterMs) return update(), noteActivity()
      // Past the deadline on the local clock (the laptop slept): the page hides at once, before
      // any answer. If the server still says active (activity elsewhere), the wake is activity.
      veiledOnWake = 1
      ui.veil(1)
      return ping(idleSeconds()).then(noteActivity)
    }}
}

function plural(formFor, lang, n) {
  let category = 'other'
  try { category = new Intl.PluralRules(lang).select(n) } catch {}
  return (formFor(category) || formFor('other') || '{n}').replace('{n}', n)
}
const nextUrl = (loginUrl, page) => loginUrl + (/\?/.test(loginUrl) ? '&' : '?') + 'next=' + encodeURIComponent(page.pathname + page.search)

if (typeof module == 'object' && module.exports) module.exports = {Core, plural, nextUrl}

// The tab layer. The config: the script tag's data-* attributes (currentScript is null in a
// module script). None, or not valid (or node, without a document): nothing to do.
const doc = globalThis.document, config = doc && (doc.currentScript || doc.querySelector('script[data-session-security]'))?.dataset
if (!(config?.expireAfter - config?.warnAfter > 0)) return
const PREFIX = 'session_security.', byId = id => doc.getElementById('session_security_' + id)
// A page without the dialog gets a detached stand-in: no null checks.
const dialog = byId('warning') || doc.createElement('i')
// Where screen readers hear the countdown.
const announcer = dialog.appendChild(doc.createElement('p'))
const stay = byId('stay'), cover = byId('cover'), counter = byId('counter')
// localStorage may be missing, full or hold junk: then tabs share less, nothing breaks.
const readStore = key => { try { return JSON.parse(localStorage[PREFIX + key]) } catch {} }
const writeStore = (key, value) => { try { localStorage[PREFIX + key] = JSON.stringify(value) } catch {} }
const emit = (name, detail) => doc.dispatchEvent(new CustomEvent('session-security:' + name, {detail}))
const logWarning = message => console.warn('session-security: ' + message)
// With options: listens on the document (visibilitychange fires there); without: on the window.
const on = (types, handler, options) => types.split(' ').forEach(type => (options ? doc : window).addEventListener(type, handler, options))
// focusedBefore: where focus returns when the warning goes. secondsShown: the counter's last
// value. leaving: the tab navigates away on purpose (no beforeunload prompt).
let clockOffset = 0, isLeader = 0, warningShown, focusedBefore, counterTimer, deadline, secondsShown, leaving, channel, core
// performance.now() stops during sleep in some browsers; Date.now() does not, but can be set
// back. The largest offset seen gives a clock that counts sleep and never goes back.
const now = () => {
  const elapsed = performance.now()
  clockOffset = max(clockOffset, Date.now() - elapsed)
  return elapsed + clockOffset
}
const secondsLeft = () => max(0, Math.ceil((deadline - now()) / 1e3))

// Unsaved input: a form not submitted, with a field changed from its default. A single select
// without a [selected] option shows its first one: that is no change.
const submittedForms = new WeakSet()
const fieldChanged = field => /^(checkbox|radio)$/.test(field.type) ? field.checked != field.defaultChecked
  : field.options ? [...field.options].some(o => o.selected != o.defaultSelected && (o.index || field.multiple || field.querySelector('[selected]')))
  : !/^(hidden|output)$/.test(field.type) && 'defaultValue' in field && field.value != field.defaultValue
const hasUnsavedInput = () => [...doc.forms].some(form => !submittedForms.has(form) && [...form.elements].some(fieldChanged))

// The counter, every 500 ms while the warning shows. Screen readers hear the sentence at each
// full minute, then at 30 and 10 s: once each, not every second.
const render = () => {
  const seconds = secondsLeft()
  if (counter) {
    counter.textContent = plural(category => dialog.getAttribute('data-seconds-' + category), config.lang, seconds)
    if (seconds != secondsShown && seconds && (seconds % 60 == 0 || seconds == 30 || seconds == 10)) announcer.textContent = counter.parentNode.textContent
  }
  secondsShown = seconds
}
// What the core shows.
const ui = {
  show(until) {
    deadline = until
    if (warningShown) return
    warningShown = 1
    focusedBefore = doc.activeElement
    dialog.hidden = false
    stay?.focus()
    // Not announced on opening: the alert dialog is read out as it takes focus.
    secondsShown = secondsLeft()
    render()
    counterTimer = setInterval(render, 500)
    emit('warn', {secondsLeft: secondsShown})
  },
  // quiet: hidden by the expiry, so no 'extend' event.
  hide(quiet) {
    if (!warningShown) return
    const hadFocus = dialog.contains(doc.activeElement)
    warningShown = 0
    clearInterval(counterTimer)
    dialog.hidden = true
    hadFocus && focusedBefore?.focus?.()
    quiet || emit('extend')
  },
  veil(veiled) {
    doc.documentElement.classList.toggle('session_security_expired', veiled)
    if (cover && !veiled) cover.hidden = true
  },
  expire(fromOtherTab) {
    ui.hide(1)
    ui.veil(1)
    emit('expire')
    // Unsaved input: the tab stays (true, to the core) under the cover, or just veiled if the
    // page has none, rather than lose it.
    if (config.keepUnsavedForms == 'true' && hasUnsavedInput()) return cover ? !(cover.hidden = false) : !logWarning('no cover')
    leaving = 1
    // After another tab's sign-out, 1 s: our request for the login page must not race its
    // logout request.
    setTimeout(() => location.replace(nextUrl(config.loginUrl, location)), fromOtherTab ? 1e3 : 0)
  }}
// Odd markup must not stop the core: a UI error is logged, never thrown.
for (const name in ui) {
  const callback = ui[name]
  ui[name] = arg => { try { return callback(arg) } catch (error) { logWarning(error) } }
}

const signOut = () => {
  leaving = 1
  core.signOut()
  if (/^post$/i.test(config.logoutMethod)) Object.assign(doc.body.appendChild(doc.createElement('form')), {method: 'post', action: config.logoutUrl}).submit()
  else location.assign(config.logoutUrl)
}

announcer.className = 'session_security_sr'
announcer.setAttribute('aria-live', 'polite')
if (dialog.isConnected) for (const id of ['stay', 'signout', 'counter']) byId(id) || logWarning('no #session_security_' + id)
try { channel = new BroadcastChannel('session-security') } catch {}
core = Core({warnAfter: +config.warnAfter, expireAfter: +config.expireAfter, pingUrl: config.pingUrl}, {now, ui, isLeader: () => isLeader,
  // A ping that hangs would stop the timers (none re-arms while one is out): 15 s at most.
  fetch: (url, options) => fetch(url, {...options, signal: AbortSignal.timeout?.(15e3)}),
  load: () => readStore('state'),
  send(state) { writeStore('state', state); channel?.postMessage(state) }})
// Without BroadcastChannel, the storage event (other tabs get it, not the writer).
if (channel) channel.onmessage = e => core.merge(e.data)
else on('storage', e => e.key == PREFIX + 'state' && core.merge(readStore('state')))

// The leader pings for all tabs: the holder of a Web Lock, else of a lease in localStorage.
// A change of leader moves this tab's next check (followerLag).
const tabId = Math.random(), setLeader = leader => isLeader != leader && (isLeader = leader, core.arm())
// The lease: renewed every 2 s, free after 5 s without renewal (its tab closed or froze). Two
// tabs taking it at once: the last write wins and both read it back.
const renewLease = () => {
  const time = Date.now(), lease = readStore('leader')
  if (!lease || lease.holder == tabId || lease.at < time - 5e3) writeStore('leader', {holder: tabId, at: time})
  setLeader(readStore('leader')?.holder == tabId)
  setTimeout(renewLease, 2e3)
}
// The lock's promise never settles: held until the tab closes, then granted to a waiting tab.
navigator.locks ? navigator.locks.request(PREFIX + 'leader', () => new Promise(() => setLeader(true))).catch(renewLease) : renewLease()

// Captured, so a page that stops events cannot hide activity. Using the dialog is not activity:
// moving to "Sign out" and pressing it (pointer, Tab, Enter, Space) must not extend the session
// first. A character typed, or Escape, is: the person is back.
on('pointermove mousemove pointerdown keydown wheel scroll touchstart input', e =>
  warningShown && e.target.closest?.('.session_security_modal') && !/^([^ ]|Esc.*)$/.test(e.key) || core.noteActivity(), {capture: true, passive: true})
// Back to the tab: focus, shown again, or restored from the back/forward cache.
const wake = () => doc.hidden || core.wake()
on('focus pageshow', wake)
on('visibilitychange', wake, {})
// Focus stays in the dialog while it shows: Tab wraps around its buttons.
on('keydown', e => {
  const buttons = warningShown && e.key == 'Tab' ? [...dialog.querySelectorAll('button')] : [], focused = doc.activeElement
  if (e.shiftKey) buttons.reverse()
  if (buttons[0] && (!dialog.contains(focused) || focused == buttons[buttons.length - 1])) e.preventDefault(), buttons[0].focus()
}, {})
on('submit', e => submittedForms.add(e.target), {capture: true})
if (config.confirmFormDiscard == 'true') on('beforeunload', e => { if (!leaving && hasUnsavedInput()) e.preventDefault(), e.returnValue = '' })
stay?.addEventListener('click', core.extend)
byId('signout')?.addEventListener('click', signOut)
window.sessionSecurity = {activity: core.noteActivity, extend: core.extend, signOut}
})()
