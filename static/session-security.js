// rocket_session_security, browser side: warns an idle person, counts down, then signs them
// out (leaves for the login page), and keeps every tab of the site in step.
//
// This is the readable source. Browsers get static/dist/session-security.min.js, built from
// it by `npm run build` (terser, pinned in package.json); CI checks that the committed build
// is exactly what this file produces.
//
// Structure
// - Core(config, env): the timing core, pure. config: warnAfter, expireAfter (seconds), pingUrl,
//   person (the script tag's data-* as they are). No DOM: the clock, the network, the shared
//   store, the leader flag and the UI all come through env, so tests/js drive it with a fake
//   clock, a fake server and fake tabs.
// - Lease(store, id, now): leader election through localStorage, for browsers without Web Locks.
// - isPersonsActivity(event, dialogOpen, insideDialog, recentInput): which events count as a
//   person's activity.
// - plural, nextUrl: text helpers.
//   These are exported for node (tests/js).
// - The tab layer (after the export; it runs only in a page whose script tag carries the
//   config as data-* attributes): the dialog and its countdown (in the tab's title too), activity listeners, the
//   leader election and the messages between tabs.
//
// Server: POST {pingUrl}?idle_for=<seconds idle here> answers about the session:
//   200 {state: 'active', idle_for, warn_after, expire_after, person} (the server's own idle
//   time and the person's timeouts, in seconds; person: an opaque id of who is signed in, or
//   null), 401 {state: 'expired', reason: 'idle' | 'absolute' | 'invalid' | 'revoked'} (missing or unknown:
//   'invalid'), or 401 {state: 'anonymous'} (nobody signed in: signed out elsewhere).
//   Anything else is no answer about the session, and never taken as one: the server may not
//   have seen the ping at all. A failure, of three kinds: 'refused', an HTTP answer of another
//   status (403 {error} from the cross-site check, e.g. behind a proxy that drops Origin or
//   Host; 400; 5xx); 'failed', a network error, or a 200 or 401 without the answer (not JSON);
//   'timeout', no answer within PING_TIMEOUT_MS. Then serverActivity stays where the server
//   last put it, the activity since stays to be reported, and the ping is retried with backoff
//   (see nextCheckAt); without any answer, a tab expires once its local idle time reaches
//   expireAfter.
// With end_with_last_tab, a tab that goes sends POST {pingUrl}?closing (a beacon, unanswered,
// from session-security-last-tab.js): the server moves the session's last activity back to end
// it after the grace; any later ping with idle_for moves it forward again.
//
// Shared state (Core's state), the same in every tab, sent as a list in this order; times in ms
// since the epoch:
//   lastActivity    the person's last activity, in any tab
//   serverActivity  the last activity the server confirmed (now - its idle_for)
//   lastAnswer      when the last ping settled, answered or not
//   failures, failure  how many pings in a row failed (0: the last one got an answer), and the
//                   last failure: {reason: 'refused' | 'failed' | 'timeout', status (0: no
//                   HTTP answer), error (the body's error text, if any)}
//   warnAfterMs, expireAfterMs  the timeouts; the server's per-person values win
//   signedOutAt     when a tab expired or signed out (0: never)
//   reason          why: 'idle' | 'absolute' | 'invalid' | 'revoked' | 'signed-out'
//   person, personAt  who the server last said is signed in ('' unknown), and when
// Tabs merge it by keeping the newest of each time; failures, failure and the timeouts come
// with the newest lastAnswer, reason with the newest signedOutAt. A time ahead of this tab's
// clock by more than a second (junk, or a clock set back since the other tab wrote it) is
// ignored.
//
// Between tabs (same script version on both ends, so the format is free to change). Every
// name holds the ping URL, so two apps on one origin (different bases) never mix:
//   BroadcastChannel 'session_security <pingUrl>': the whole state, whenever a tab changes it;
//     0, when a tab closes (end_with_last_tab);
//   localStorage 'session_security <pingUrl> state': the same, as JSON, read back at each
//     check by a tab that missed messages (asleep, throttled, or without BroadcastChannel);
//   Web Lock 'session_security <pingUrl> leader': held by the leader tab, the one that pings;
//   localStorage 'session_security <pingUrl> leader': {holder, at}, the lease without Web Locks.
//
// What counts as activity: trusted events only (isTrusted), so a page's own scripts cannot
// keep a session alive by dispatching events; scrolling only within a second of a trusted
// wheel, touch, key or pointer press (not a script's scrollTo). While the warning dialog is
// open, only a deliberate act closes it: "Stay signed in", a key other than Tab, Shift and
// the like (Enter or Space on a dialog button presses that button), or a press outside the
// dialog's box. Moving the pointer on the way to "Sign out now" does not.
//
// For the page's own code (single-page apps):
//   window.sessionSecurity.activity()  count activity now (e.g. while media plays)
//   window.sessionSecurity.extend()    ask the server to extend; a Promise of true while signed in
//   window.sessionSecurity.signOut()   sign out every tab through the logout URL (a request in
//                                      the background, with the app's CSRF token if the snippet
//                                      has one; the tabs are told once the server took it); a
//                                      Promise of true once signed out, false if refused
//   window.sessionSecurity.expired(reason)  the server said the session is over (e.g. an API
//                                      call got the crate's JSON 401; reason 'idle', 'absolute',
//                                      'signed-out', else 'invalid'): every tab ends as on expiry
//   window.sessionSecurity.handleResponse(response)  a Promise of true (and expired() called)
//                                      when a fetch Response is the crate's JSON 401
//                                      ({"error": "session_expired", "reason"} or
//                                      {"error": "not_signed_in"}); the response body stays readable
//   window.sessionSecurity.report()    tell the server this page's idle time now (not activity;
//                                      nothing while a ping is out or once the session is over)
//   events on document, in every tab:
//   'session-security:warn' (detail.secondsLeft; when the warning opens, and again whenever its
//     deadline moves), 'session-security:extend' (the warning closed on activity),
//   'session-security:expire' (the session is over; detail.reason: 'idle' | 'absolute' |
//     'invalid' as the server says, 'idle' too for a local expiry without any answer,
//     'signed-out' (signOut(), "Sign out now", or the server knows nobody), 'other-person'
//     (someone else signed in); a tab that ends because another did gives the same reason;
//     fired while the page's content is still in the document, taken out right after),
//   'session-security:unreachable' (a ping failed, in whichever tab; detail {reason: 'refused' |
//     'failed' | 'timeout', status, error: the answer's error text, if any}; the console warns
//     once per run of failures),
//   'session-security:reachable' (a ping got an answer again after failures),
//   'session-security:signout-failed' (the logout URL refused the sign-out or could not be
//     reached; detail.status, 0 without an HTTP answer; #session_security_signout_failed shows
//     in the warning).
//   The crate's dialog shows #session_security_unreached while the warning stands because the
//   person's activity did not reach the server (it counts down to the server's deadline).
//   Once the session is over, and while a page is checked with the server (restored from the
//   back/forward cache, woken past the deadline), <html> has the class session_security_expired
//   and everything in <body> but the cover is out of the document (held here while the page is
//   checked, put back when the server says active; dropped once the session is over); the crate's stylesheet hides anything added to <body> meanwhile, a page
//   without that stylesheet should do the same.
(function sessionSecurity() {
  const PING_TIMEOUT_MS = 15000
  // How far ahead another tab's times may be (tabs' clocks differ by milliseconds).
  const FUTURE_TOLERANCE_MS = 1000
  // Followers check this long after the leader would: normally the leader pings for all, and
  // its shared answer moves their deadlines on; if it is gone or frozen, a follower steps in.
  const FOLLOWER_LAG_MS = 4000
  // setTimeout fires at once beyond 2^31 - 1 ms.
  const LONGEST_TIMER_MS = 2e9
  const LEASE_TTL_MS = 5000
  const LEASE_RENEW_MS = 2000
  const LEASE_CONFIRM_MS = 500

  // Why a session ended, as the server (or the page, through expired()) or another tab says;
  // anything else is 'invalid'.
  function knownReason(why) {
    return /^(idle|absolute|revoked|signed-out)$/.test(why) ? why : 'invalid'
  }

  // A tab's phase; enter() is the one way from one to the next.
  //   ACTIVE    the session is active as far as this tab knows. The warning shows within it
  //             when the shared times say so (inWarning): it follows them, it is not a phase.
  //   CHECKING  hidden (veiled) until the server says the session is active: woken past the
  //             deadline, or restored from the back/forward cache. The server's word brings
  //             back ACTIVE; any other ends the session.
  //   ENDED     the session is over for this tab: no timers; the tab layer leaves the page.
  //   COVERED   over, yet the page stays under the cover to keep its unsaved input (from ENDED,
  //             when the tab layer keeps it), until the same person is signed in again (the
  //             page reloads) or someone else is (ENDED).
  const ACTIVE = 0
  const CHECKING = 1
  const ENDED = 2
  const COVERED = 3
  // What a ping's answer means for a tab (classify), in that tab's phase.
  const CONFIRMED = 0 // active, for this page's person: the times move on
  const UNANSWERED = 1 // no answer about the session: a failure, retried
  const EXPIRED = 2 // over: by the server's word, or unanswered once idle for expireAfter
  const RELOAD = 3 // covered, and the same person is signed in again
  const LEAVE = 4 // someone else is signed in
  const IGNORED = 5 // the session is over for this tab already

  function Core(config, env) {
    const ui = env.ui
    const now = env.now
    // Who this page was made for ('' unknown).
    const pagePerson = config.person || ''
    const start = now()
    // The shared state (see the header).
    let lastActivity = start
    let serverActivity = start
    let lastAnswer = start
    let warnAfterMs = config.warnAfter * 1000
    let expireAfterMs = config.expireAfter * 1000
    let signedOutAt = 0
    let reason = ''
    let failures = 0
    let failure = null
    let person = pagePerson
    let personAt = pagePerson ? start : 0
    let timer = null
    let pingsInFlight = 0
    let phase = ACTIVE
    let lastRevive = -Infinity
    // The deadline the warning shows; null while it does not.
    let shownDeadline = null
    // The warning shows that the person's activity did not reach the server.
    let shownUnreached = false
    // The page was told of the failed pings up to this lastAnswer; told: and not yet that the
    // server answers again.
    let toldAt = 0
    let told = false

    // The warning stands once a ping settled at or after lastActivity + warnAfterMs. While pings
    // fail, the server's idle time is what counts: the activity since did not reach it.
    function inWarning() {
      return lastAnswer >= Math.min(lastActivity, failures ? serverActivity : Infinity) + warnAfterMs
    }

    function idleSeconds() {
      return Math.floor((now() - lastActivity) / 1000)
    }

    function followerLag() {
      return env.isLeader() ? 0 : FOLLOWER_LAG_MS
    }

    // The shared state as tabs send it: a list, in the order of the header (names would be most
    // of the script's size on the wire).
    function snapshot() {
      return [lastActivity, serverActivity, lastAnswer, warnAfterMs, expireAfterMs, signedOutAt, reason, failures, failure, person, personAt]
    }

    function share() {
      env.send(snapshot())
    }

    // Someone else than the person this page was made for is signed in now.
    function anotherPerson() {
      return pagePerson !== '' && person !== '' && person !== pagePerson
    }

    // The same person as this page's is signed in; unknown on either side is not the same.
    function samePerson() {
      return pagePerson !== '' && person === pagePerson
    }

    // When the next check is due:
    // - the last ping failed: a retry, 2, 4, 8, 16 s after it, then every 30 s (a server or
    //   proxy in trouble is not flooded), and at the latest when the local idle time reaches
    //   expireAfter, to expire on time without an answer;
    // - warning shown: expiry, 250 ms after the server's own deadline, so that the server
    //   agrees (401) at the first ask: never early, two pings per idle cycle;
    // - activity the server has not heard of (beyond the 1 s of its whole-second stamps): a
    //   keepalive once the server sees warnAfter of idleness, well before it could expire;
    // - else: the warning check at lastActivity + warnAfter.
    // And at most one ping per 2 s whatever the server answers (one ignoring idle_for would
    // otherwise cause a ping storm).
    function nextCheckAt() {
      let due
      if (failures) {
        due = Math.min(lastAnswer + Math.min(1000 * 2 ** failures, 30000), lastActivity + expireAfterMs)
      } else if (inWarning()) {
        due = serverActivity + expireAfterMs + 250
      } else if (lastActivity > serverActivity + 1000) {
        due = serverActivity + warnAfterMs
      } else {
        due = lastActivity + warnAfterMs
      }
      return Math.max(due, lastAnswer + 2000)
    }

    // Merges another tab's state (see snapshot): the newest of each time wins. A time more than
    // a second ahead of this tab's clock is ignored: it would hold off the deadlines (as fresh
    // activity) or sign out tabs that have not even started. Not a list: nothing.
    function adopt(other) {
      const time = now()
      const [otherActivity, otherServerActivity, otherAnswer, otherWarnAfterMs, otherExpireAfterMs, otherSignedOutAt,
        otherReason, otherFailures, otherFailure, otherPerson, otherPersonAt] = Array.isArray(other) ? other : []
      // The time, or -Infinity: none, junk, or too far ahead.
      const at = value => {
        value = Number(value)
        return value <= time + FUTURE_TOLERANCE_MS ? Math.min(value, time) : -Infinity
      }
      // The timeouts and the failures come with the newest ping; only a sane pair is taken.
      if (at(otherAnswer) > lastAnswer) {
        failures = otherFailures > 0 ? Number(otherFailures) : 0
        failure = otherFailure
        if (otherWarnAfterMs > 0 && otherExpireAfterMs > otherWarnAfterMs) {
          warnAfterMs = otherWarnAfterMs
          expireAfterMs = otherExpireAfterMs
        }
      }
      // Why it ended comes with the newest sign-out.
      if (at(otherSignedOutAt) > signedOutAt) {
        signedOutAt = at(otherSignedOutAt)
        reason = knownReason(otherReason)
      }
      lastActivity = Math.max(lastActivity, at(otherActivity))
      serverActivity = Math.max(serverActivity, at(otherServerActivity))
      lastAnswer = Math.max(lastAnswer, at(otherAnswer))
      if (at(otherPersonAt) > personAt && typeof otherPerson === 'string') {
        person = otherPerson
        personAt = at(otherPersonAt)
      }
    }

    // The shared state as stored: a frozen or throttled tab misses messages.
    function readShared() {
      adopt(env.load())
    }

    function arm() {
      clearTimeout(timer)
      // No timer while signed out, nor while a ping is out (its settle re-arms).
      if (phase >= ENDED || pingsInFlight > 0) {
        return
      }
      const delay = Math.max(nextCheckAt() - now(), 0) + followerLag()
      timer = setTimeout(check, Math.min(delay, LONGEST_TIMER_MS))
    }

    // The countdown runs to the server's deadline; the UI hears of it again when it moves.
    function showWarning() {
      const deadline = serverActivity + expireAfterMs
      if (deadline !== shownDeadline) {
        shownDeadline = deadline
        ui.show(deadline)
      }
    }

    function hideWarning() {
      if (shownDeadline !== null) {
        shownDeadline = null
        ui.hide()
      }
    }

    // Applies the state: sign-out, timer, warning. fromOtherTab: a message was just merged.
    function update(fromOtherTab) {
      if (phase >= ENDED) {
        if (phase === COVERED && anotherPerson()) {
          leaveForAnotherPerson()
        } else if (fromOtherTab && lastActivity > signedOutAt) {
          // Activity after the sign-out: maybe signed in again in another tab.
          revive()
        }
        return
      }
      if (anotherPerson()) {
        leaveForAnotherPerson()
        return
      }
      // Another tab expired or signed out since the last activity.
      if (signedOutAt >= lastActivity) {
        expire(true)
        return
      }
      arm()
      const warning = inWarning()
      if (warning) {
        showWarning()
      } else {
        hideWarning()
      }
      const unreached = warning && failures > 0 && lastActivity > serverActivity + 1000
      if (unreached !== shownUnreached) {
        shownUnreached = unreached
        ui.unreached(unreached)
      }
      tell()
    }

    // Tells the page of each failed ping, in every tab (the console once a run of failures),
    // and that the server answers again.
    function tell() {
      if (failures && lastAnswer > toldAt) {
        if (!told) {
          // e.g. {reason: 'refused', status: 403, error: 'cross-site request: ...'}
          console.warn('session-security: ping failed', failure)
        }
        told = true
        toldAt = lastAnswer
        ui.emit('unreachable', failure)
      } else if (!failures && told) {
        told = false
        ui.emit('reachable')
      }
    }

    // The timer. The shared state is read first: a frozen or throttled tab misses messages.
    function check() {
      readShared()
      update(false)
      if (phase < ENDED && pingsInFlight === 0 && now() >= nextCheckAt() + followerLag()) {
        ping()
      }
    }

    // Asks the server. A ping that does not settle within PING_TIMEOUT_MS is aborted and
    // counts as a failure: without this, a hung request would stop every timer (none re-arms
    // while a ping is out) and could leave a page veiled for ever.
    function ping() {
      clearTimeout(timer)
      pingsInFlight += 1
      const controller = new AbortController()
      const timeout = setTimeout(() => controller.abort(), PING_TIMEOUT_MS)
      // Cookies go with it (credentials: 'same-origin' is fetch's default) and a POST answer
      // is never taken from a cache.
      const options = {method: 'POST', headers: {Accept: 'application/json'}, signal: controller.signal}
      return env.fetch(config.pingUrl + '?idle_for=' + idleSeconds(), options)
        .then(readAnswer)
        .catch(() => ({reason: 'failed', status: 0}))
        .then(answer => {
          clearTimeout(timeout)
          if (!answer.state && controller.signal.aborted) {
            answer.reason = 'timeout'
          }
          settle(answer)
        })
    }

    // The server's answer about the session: 200 active, 401 expired or anonymous. Anything
    // else is a failure, {reason, status, error}: 'refused' for another status (a cross-site
    // check, a proxy, a server error), 'failed' for a 200 or 401 without the answer (a login
    // page, a proxy's 401); error: the body's error text, if any.
    async function readAnswer(response) {
      const status = response.status
      let body = null
      try {
        body = await response.json()
      } catch (error) {
        // Not JSON.
      }
      const state = body?.state
      if (status === 200 ? state === 'active' && body.idle_for >= 0 : status === 401 && (state === 'expired' || state === 'anonymous')) {
        return body
      }
      return {reason: status === 200 || status === 401 ? 'failed' : 'refused', status, error: body?.error}
    }

    // What the server's answer means for this tab (the person it names already adopted).
    function classify(answer, time) {
      const active = answer.state === 'active'
      if (phase >= ENDED) {
        // Covered, yet active: signed in again elsewhere; only the same person gets the page.
        return phase === COVERED && active ? (samePerson() ? RELOAD : LEAVE) : IGNORED
      }
      if (active) {
        return anotherPerson() ? LEAVE : CONFIRMED
      }
      // readAnswer lets no state but expired or anonymous (nobody signed in) through.
      return answer.state || time - lastActivity >= expireAfterMs ? EXPIRED : UNANSWERED
    }

    // Applies the server's answer.
    function settle(answer) {
      pingsInFlight -= 1
      readShared()
      const time = now()
      if (answer.state === 'active') {
        person = typeof answer.person === 'string' ? answer.person : ''
        personAt = time
      }
      const verdict = classify(answer, time)
      if (verdict === RELOAD) {
        // Loaded anew: its sealed draft is filled in there (session-security-drafts.js).
        ui.reload()
      } else if (verdict === LEAVE) {
        leaveForAnotherPerson()
      } else if (verdict === EXPIRED) {
        expire(false, answer.state === 'expired' ? knownReason(answer.reason) : answer.state ? 'signed-out' : 'idle')
      } else if (verdict !== IGNORED) {
        if (verdict === CONFIRMED) {
          failures = 0
          if (phase === CHECKING) {
            enter(ACTIVE)
          }
          // The person's own timeouts replace the page's.
          if (answer.warn_after > 0 && answer.expire_after > answer.warn_after) {
            warnAfterMs = answer.warn_after * 1000
            expireAfterMs = answer.expire_after * 1000
          }
          const seen = time - answer.idle_for * 1000
          serverActivity = Math.max(serverActivity, seen)
          // The server saw later activity (another device, a page load): adopt it. Its stamps are
          // whole seconds, so only activity more than 1 s later counts.
          if (seen > lastActivity + 1000) {
            lastActivity = seen
          }
        } else {
          // No answer about the session: the server saw nothing. serverActivity stays, the
          // activity since stays to be reported, by a retry (see nextCheckAt).
          failures += 1
          failure = answer
        }
        lastAnswer = time
        share()
        update(false)
      }
    }

    // The one way from one phase to the next (see the phases above).
    function enter(next) {
      if (next === CHECKING) {
        ui.veil(true)
      } else if (phase === CHECKING && next === ACTIVE) {
        ui.veil(false)
      }
      if (next >= ENDED) {
        stopTimers()
      }
      phase = next
    }

    function stopTimers() {
      clearTimeout(timer)
      shownDeadline = null
    }

    // The session ended: here, for a reason (recorded and shared), or in another tab
    // (fromOtherTab; its reason came with its signedOutAt). False if it had ended already.
    function end(fromOtherTab, why) {
      if (phase >= ENDED) {
        return false
      }
      enter(ENDED)
      if (!fromOtherTab) {
        signedOutAt = now()
        reason = why
        share()
      }
      return true
    }

    function expire(fromOtherTab, why) {
      // true: the tab stays, covered, to keep unsaved input.
      if (end(fromOtherTab, why) && ui.expire(fromOtherTab, reason) === true) {
        enter(COVERED)
      }
    }

    // Someone else signed in on this browser: nothing of this page may stay, drafts included.
    // Not shared: the other person's tabs are fine.
    function leaveForAnotherPerson() {
      enter(ENDED)
      ui.leave()
    }

    // Covered: the person may sign in again in another tab. Ask the server, at most every 3 s;
    // a reason to ask within those 3 s asks at their end (the sign-in may be what it heard of).
    function revive() {
      const wait = lastRevive + 3000 - now()
      if (phase !== COVERED) {
        return
      }
      clearTimeout(timer)
      if (wait > 0) {
        timer = setTimeout(revive, wait)
      } else {
        lastRevive = now()
        ping()
      }
    }

    // "Stay signed in": activity now, shared at once (the warning goes in every tab), then told
    // to the server. Resolves true if still signed in; signed out, it does not ask. While pings
    // fail, the warning stays until one gets through; and a person pressing it again and again
    // asks at most once per 2 s, one ping at a time (else the next retry carries it).
    function extend() {
      if (phase >= ENDED) {
        return Promise.resolve(false)
      }
      const ask = !failures || (pingsInFlight === 0 && now() >= lastAnswer + 2000)
      if (phase === ACTIVE) {
        activeNow()
      }
      return (ask ? ping() : Promise.resolve()).then(() => phase < ENDED)
    }

    function activeNow() {
      lastActivity = now()
      share()
      update(false)
    }

    // At most one shared write per second. Veiled, the session may be over: no activity counts.
    // During the warning, activity must reach the server: extend; while pings fail, the retries
    // carry it (only "Stay signed in" asks sooner).
    function noteActivity() {
      if (phase !== ACTIVE || now() - lastActivity < 1000) {
        return
      }
      if (inWarning() && !failures) {
        extend()
      } else {
        activeNow()
      }
    }

    // Back to the tab (focus, shown again): its timers may not have run (sleep, throttling).
    // Looking at a tab is not activity: the warning stays until a deliberate act.
    function wake() {
      if (phase === CHECKING) {
        return
      }
      readShared()
      if (phase >= ENDED) {
        revive()
        return
      }
      if (now() - lastActivity < expireAfterMs) {
        update(false)
        return
      }
      // Past the deadline on the local clock (the laptop slept): the page hides at once, before
      // any answer, and shows again only if the server still says active (activity elsewhere).
      hideUntilAnswered()
    }

    function hideUntilAnswered() {
      enter(CHECKING)
      ping()
    }

    // Restored from the back/forward cache: shown again only once the server says active.
    // Left signed out, the page is loaded anew, so the server decides what it shows.
    function restore() {
      readShared()
      if (phase === ENDED) {
        ui.reload()
      } else if (phase === COVERED) {
        revive()
      } else {
        hideUntilAnswered()
      }
    }

    // A page load is activity the server saw: the other tabs adopt it.
    share()
    update(false)
    return {
      // A copy of the state, for tests.
      state: snapshot,
      noteActivity,
      extend,
      arm,
      wake,
      restore,
      // The server said the session is over (an API answer): as an expiry here, for its reason.
      expired(why) {
        expire(false, knownReason(why))
      },
      // This tab signs out: recorded and shared; the tab layer navigates.
      signOut() {
        end(false, 'signed-out')
      },
      // A message from another tab.
      merge(other) {
        adopt(other)
        update(true)
      },
      // Tells the server this tab's idle time now (not activity), if nothing else is asking:
      // for session-security-last-tab.js, a page of the site is open, so a closing tab's
      // request to end the session is undone.
      report() {
        if (phase < ENDED && !pingsInFlight) {
          ping()
        }
      },
    }
  }

  // A lease that names the leader tab, in localStorage, for browsers without Web Locks.
  // store: {read, write} of the shared {holder, at}; now: the clock. step() runs every
  // LEASE_RENEW_MS: it renews this tab's lease, or claims a free one.
  // A lease is fresh when its `at` is a time within the last LEASE_TTL_MS and not ahead of
  // this tab's clock (junk or a missing `at` is free to take). A tab that claimed the lease
  // leads only once it still holds it LEASE_CONFIRM_MS later: of tabs that claim at once, the
  // last write wins, and the others see it by then. isLeader() reads the store each time, so
  // a tab that wakes from a freeze to find another holder stops at once: two leaders at most
  // while a write takes to reach the other tab, and never when that is below LEASE_CONFIRM_MS.
  function Lease(store, id, now) {
    let claimedAt = null

    function fresh(lease, time) {
      // (A missing or junk `at` compares as NaN or a small number: not fresh.)
      return lease?.at <= time + FUTURE_TOLERANCE_MS && lease.at > time - LEASE_TTL_MS
    }

    function isLeader() {
      const time = now()
      const lease = store.read()
      return claimedAt !== null && time - claimedAt >= LEASE_CONFIRM_MS && fresh(lease, time) && lease.holder === id
    }

    function step() {
      const time = now()
      const lease = store.read()
      if (!fresh(lease, time) || lease.holder === id) {
        store.write({holder: id, at: time})
        claimedAt ??= time
      } else {
        claimedAt = null
      }
    }

    return {step, isLeader}
  }

  // Keys that move between the dialog's buttons, or modify another key.
  const NAVIGATION_KEY = /^(Tab|Shift|Control|Alt|AltGraph|Meta|CapsLock|Fn|OS)$/

  // WebKitGTK reports Shift+Tab with the key 'Unidentified' (its code stays 'Tab').
  function isTab(event) {
    return event.key === 'Tab' || event.code === 'Tab'
  }

  // Whether an event is a person's activity, given whether the crate's warning dialog shows
  // (dialogOpen), the event's target is in the dialog's box (insideDialog), and a trusted
  // wheel, touch, key or pointer press came in the last second (recentInput).
  function isPersonsActivity(event, dialogOpen, insideDialog, recentInput) {
    if (!event.isTrusted) {
      return false
    }
    if (event.type === 'scroll') {
      return recentInput && !dialogOpen
    }
    if (!dialogOpen) {
      return true
    }
    if (event.type === 'keydown') {
      const pressesButton = insideDialog && (event.key === 'Enter' || event.key === ' ')
      return !NAVIGATION_KEY.test(event.key) && !isTab(event) && !pressesButton
    }
    if (event.type === 'pointerdown') {
      return !insideDialog
    }
    return false
  }

  function plural(formFor, lang, n) {
    let category = 'other'
    try {
      category = new Intl.PluralRules(lang).select(n)
    } catch (error) {
      // An unknown language: 'other'.
    }
    return (formFor(category) || formFor('other') || '{n}').replace('{n}', n)
  }

  function nextUrl(loginUrl, page) {
    const separator = loginUrl.includes('?') ? '&' : '?'
    return loginUrl + separator + 'next=' + encodeURIComponent(page.pathname + page.search)
  }

  if (typeof module === 'object') {
    module.exports = {Core, Lease, isPersonsActivity, plural, nextUrl}
  }

  // The tab layer. The config: the script tag's data-* attributes (currentScript is null in a
  // module script). None, or not valid (or node, without a document): nothing to do.
  const doc = globalThis.document
  if (!doc) {
    return
  }
  const script = doc.currentScript || doc.querySelector('script[data-session-security]')
  const config = script ? script.dataset : {}
  const warnAfter = Number(config.warnAfter)
  const expireAfter = Number(config.expireAfter)
  if (!(warnAfter > 0 && expireAfter > warnAfter)) {
    return
  }
  const NAMESPACE = 'session_security ' + config.pingUrl
  const byId = id => doc.getElementById('session_security_' + id)
  // A page without the dialog gets detached stand-ins: no null checks.
  const standIn = id => byId(id) || doc.createElement('p')
  const dialog = standIn('warning')
  const modal = dialog.querySelector('.session_security_modal') || dialog
  const stay = byId('stay')
  const signOutButton = byId('signout')
  // (Without the crate's cover, a page of the app's own, an empty stand-in stays: the veil alone.)
  const cover = standIn('cover')
  const counter = byId('counter')
  // Where screen readers hear the countdown (a polite live region in the dialog).
  const announcer = standIn('announcer')
  // "Your request did not reach the server": shown in the warning while pings fail.
  const unreachedText = standIn('unreached')
  // "Signing out did not work": shown in the warning when the logout request was refused.
  const signOutFailedText = standIn('signout_failed')

  // localStorage may be missing, full or hold junk: then tabs share less, nothing breaks.
  function readStore(key) {
    try {
      return JSON.parse(localStorage.getItem(NAMESPACE + ' ' + key))
    } catch (error) {
      return null
    }
  }

  function writeStore(key, value) {
    try {
      localStorage.setItem(NAMESPACE + ' ' + key, JSON.stringify(value))
    } catch (error) {
      // Storage full or denied.
    }
  }

  function emit(name, detail) {
    doc.dispatchEvent(new CustomEvent('session-security:' + name, {detail}))
  }

  // performance.now() stops during sleep in some browsers; Date.now() does not, but can be set
  // back. The largest offset seen gives a clock that counts sleep and never goes back.
  let clockOffset = 0
  function now() {
    const elapsed = performance.now()
    clockOffset = Math.max(clockOffset, Date.now() - elapsed)
    return elapsed + clockOffset
  }

  // warningShown: the core's warning is on (told to the page by events); dialogOpen: and the
  // crate's dialog shows it.
  let warningShown = false
  let dialogOpen = false
  let focusedBefore = null
  let counterTimer = null
  let deadline = 0
  let secondsShown = null
  // What the veil took out of the page.
  const held = new DocumentFragment()
  // The page's own title, while the tab's title shows the countdown in front of it.
  let pageTitle = ''
  // The unreached text is to be announced: at the next render, once the dialog shows (a live
  // region that appears along with its text may not be read out).
  let announceUnreached = false
  // The tab navigates away on purpose: no beforeunload prompt.
  let leaving = false
  // The session is over for this page.
  let ended = false
  let lastInputAt = -Infinity
  // The logout request in flight ("Sign out now" pressed twice asks once).
  let signingOut = null

  function secondsLeft() {
    return Math.max(0, Math.ceil((deadline - now()) / 1000))
  }

  // Unsaved input: a form not submitted, with a field changed from its default. A single select
  // without a [selected] option shows its first one: that is no change.
  const submittedForms = new WeakSet()
  function optionChanged(select, option) {
    return option.selected !== option.defaultSelected && (option.index > 0 || select.multiple || select.querySelector('[selected]') !== null)
  }
  function fieldChanged(field) {
    if (field.type === 'checkbox' || field.type === 'radio') {
      return field.checked !== field.defaultChecked
    }
    if (field.options) {
      return [...field.options].some(option => optionChanged(field, option))
    }
    // (A hidden input's value is its default.)
    return field.type !== 'output' && 'defaultValue' in field && field.value !== field.defaultValue
  }
  // (In the page, or held by the veil: a laptop that slept past the deadline.)
  function hasUnsavedInput() {
    return [...doc.forms, ...held.querySelectorAll('form')].some(form => !submittedForms.has(form) && [...form.elements].some(fieldChanged))
  }

  // The counter, every 500 ms while the warning shows, in the dialog and in the tab's title (the
  // person may be in another window). Screen readers hear the sentence at each full minute, then
  // at 30 and 10 s: once each, not every second.
  function render() {
    const seconds = secondsLeft()
    if (counter) {
      counter.textContent = plural(category => dialog.getAttribute('data-seconds-' + category), config.lang, seconds)
      doc.title = counter.textContent + ' · ' + pageTitle
      const coarseStep = seconds % 60 === 0 || seconds === 30 || seconds === 10
      if (seconds !== secondsShown && seconds > 0 && coarseStep) {
        announcer.textContent = counter.parentNode.textContent
      }
    }
    secondsShown = seconds
    if (announceUnreached) {
      announceUnreached = false
      announcer.textContent = unreachedText.textContent
    }
  }

  function goToLogin(url, delayMs) {
    leaving = true
    setTimeout(() => location.replace(url), delayMs)
  }

  // The session is over for this page: nothing of it stays, in sight or held. The event comes
  // first, while the page is still there: the app, and session-security-drafts.js (which seals
  // the unsaved input), can still read it.
  function endPage(reason) {
    ended = true
    ui.hide(true)
    emit('expire', {reason})
    ui.veil(true)
    held.replaceChildren()
  }

  // What the core shows.
  const ui = {
    // Opens the warning, or tells the page again when its deadline moved (the server's
    // per-person timeouts arrived, another device kept the session alive).
    show(until) {
      deadline = until
      if (!warningShown) {
        warningShown = true
        dialogOpen = dialog.isConnected
        focusedBefore = doc.activeElement
        pageTitle = doc.title
        dialog.hidden = false
        signOutFailedText.hidden = true
        stay?.focus()
        // Not announced on opening: the alert dialog is read out as it takes focus.
        secondsShown = secondsLeft()
        counterTimer = setInterval(render, 500)
      }
      render()
      emit('warn', {secondsLeft: secondsLeft()})
    },
    // quiet: hidden by the expiry, so no 'extend' event.
    hide(quiet) {
      clearInterval(counterTimer)
      const wasShown = warningShown
      const hadFocus = dialog.contains(doc.activeElement)
      warningShown = false
      dialogOpen = false
      dialog.hidden = true
      if (hadFocus) {
        focusedBefore?.focus()
      }
      if (wasShown) {
        doc.title = pageTitle
        if (!quiet) {
          emit('extend')
        }
      }
    },
    // Whether the warning says that the person's activity did not reach the server.
    unreached(shown) {
      unreachedText.hidden = !shown
      announceUnreached = shown
    },
    // The page's events: 'unreachable', 'reachable'.
    emit,
    // Veiled, the page's content is out of the DOM, not only out of sight: DevTools, Reader View,
    // "Save page" and select-all find only the cover. While the session may still be active
    // (woken past the deadline, back from the back/forward cache) it is held here, typed input
    // and all, and put back as it was when the server says so; once the session is over it goes.
    veil(veiled) {
      const body = doc.body
      doc.documentElement.classList.toggle('session_security_expired', veiled)
      if (veiled) {
        held.append(...body.childNodes)
        body.append(cover)
      } else {
        body.prepend(held)
      }
    },
    expire(fromOtherTab, reason) {
      // (Asked first: the veil takes the forms out of the page.) The draft is kept only sealed,
      // with WebCrypto: not in a page that is not a secure context (plain HTTP).
      const keep = config.keepUnsavedForms === 'true' && crypto.subtle && hasUnsavedInput()
      endPage(reason)
      // Unsaved input: the tab stays (true, to the core) under the cover, or just veiled if the
      // page has none, its draft sealed, rather than lose it.
      if (keep) {
        cover.hidden = false
        return true
      }
      // After another tab's sign-out, 1 s: our request for the login page must not race its
      // logout request.
      goToLogin(nextUrl(config.loginUrl, location), fromOtherTab ? 1000 : 0)
      return false
    },
    // Someone else signed in: drafts discarded, no way back to this page (no next).
    leave() {
      endPage('other-person')
      goToLogin(config.loginUrl, 0)
    },
    reload() {
      leaving = true
      location.reload()
    },
  }
  // Odd markup must not stop the core: a UI error is logged, never thrown.
  for (const name in ui) {
    const callback = ui[name]
    ui[name] = (...args) => {
      try {
        return callback(...args)
      } catch (error) {
        // (undefined: not the expire callback's true.)
        console.warn('session-security:', error)
      }
    }
  }

  let channel = null
  try {
    channel = new BroadcastChannel(NAMESPACE)
  } catch (error) {
    // No BroadcastChannel (see below).
  }

  // The leader pings for all tabs: the holder of a Web Lock, else of a lease in localStorage.
  let lockHeld = false
  let lease = null
  const core = Core(config, {
    now,
    ui,
    isLeader: () => lockHeld || lease?.isLeader(),
    fetch: (url, options) => fetch(url, options),
    load: () => readStore('state'),
    send(state) {
      writeStore('state', state)
      channel?.postMessage(state)
    },
  })
  // Without BroadcastChannel, tabs still meet in localStorage at each check (check() reads it).
  if (channel) {
    channel.onmessage = event => core.merge(event.data)
  }

  // A change of leader moves this tab's next check (the follower lag): re-arm on each step.
  function runLease() {
    lease.step()
    core.arm()
    setTimeout(runLease, LEASE_RENEW_MS)
  }
  function startLease() {
    // randomUUID exists only in secure contexts (not on a plain-HTTP intranet host); a
    // random number is as good an id there (JSON keeps it exactly).
    const id = crypto.randomUUID?.() ?? Math.random()
    lease = Lease({read: () => readStore('leader'), write: value => writeStore('leader', value)}, id, Date.now)
    runLease()
  }
  if (navigator.locks) {
    // The lock's promise never settles: held until the tab closes, then granted to a waiting tab.
    navigator.locks.request(NAMESPACE + ' leader', () => new Promise(() => {
      lockHeld = true
      core.arm()
    })).catch(startLease)
  } else {
    startLease()
  }

  // Signs out through the app's logout URL, in the background: a POST carries the app's CSRF
  // token when the snippet has one (data-csrf-field, data-csrf-token). Only once the server
  // took it (2xx, or a redirect: not followed, so that the login page's flash message is left
  // for the page itself) are the other tabs told, and this one leaves for the login page.
  // Refused or unreachable: every tab stays as it is, the warning says so, and the page hears
  // 'session-security:signout-failed' (detail.status, 0 without an HTTP answer).
  // A Promise of true once signed out.
  function signOut() {
    const body = new URLSearchParams()
    if (config.csrfField) {
      body.set(config.csrfField, config.csrfToken)
    }
    // (logoutMethod: 'get' or 'post'; a GET has no body.)
    return (signingOut ??= fetch(config.logoutUrl, {method: config.logoutMethod, body: config.logoutMethod === 'post' ? body : null, redirect: 'manual'})
      .then(response => {
        if (!response.ok && response.type !== 'opaqueredirect') {
          throw response
        }
        core.signOut()
        endPage('signed-out')
        goToLogin(config.loginUrl, 0)
        return true
      })
      .catch(failed => {
        signingOut = null
        signOutFailedText.hidden = false
        announcer.textContent = signOutFailedText.textContent
        emit('signout-failed', {status: failed.status | 0})
        return false
      }))
  }

  // A Response is read through a clone, so the page can still read its body.
  async function handleResponse(response) {
    try {
      const body = response.status === 401 ? await response.clone().json() : null
      const error = body?.error
      const ours = error === 'session_expired' || error === 'not_signed_in'
      if (ours) {
        core.expired(error === 'session_expired' ? body.reason : 'signed-out')
      }
      return ours
    } catch (error) {
      // Not JSON, or its body was read already.
      return false
    }
  }

  // Focus stays in the dialog while it shows: Tab wraps around its buttons.
  function keepFocusIn(event) {
    const buttons = [...dialog.querySelectorAll('button')]
    if (event.shiftKey) {
      buttons.reverse()
    }
    const focused = doc.activeElement
    if (buttons[0] && (!dialog.contains(focused) || focused === buttons.at(-1))) {
      event.preventDefault()
      buttons[0].focus()
    }
  }

  // Captured, so a page that stops events cannot hide activity (nor take Tab out of the dialog).
  function onInput(event) {
    if (dialogOpen && isTab(event)) {
      keepFocusIn(event)
    }
    if (event.isTrusted && /^(wheel|touch|key|pointerdown)/.test(event.type)) {
      lastInputAt = now()
    }
    if (isPersonsActivity(event, dialogOpen, modal.contains(event.target), now() - lastInputAt < 1000)) {
      core.noteActivity()
    }
  }
  // Not marked passive, so that the focus trap can keep Tab: browsers treat wheel and touch
  // listeners on the document as passive anyway, so scrolling never waits for this one.
  for (const type of ['pointermove', 'pointerdown', 'keydown', 'wheel', 'scroll', 'touchstart', 'input']) {
    doc.addEventListener(type, onInput, true)
  }

  // Back to the tab: focus, or shown again.
  function wake() {
    if (!doc.hidden) {
      core.wake()
    }
  }
  window.addEventListener('focus', wake)
  doc.addEventListener('visibilitychange', wake)
  // Into the back/forward cache: veiled now, so that the page is hidden from the first frame
  // it is shown again, until the server says the session is still active.
  window.addEventListener('pagehide', event => {
    if (event.persisted) {
      ui.veil(true)
    }
  })
  window.addEventListener('pageshow', event => {
    if (event.persisted) {
      core.restore()
    }
  })

  doc.addEventListener('submit', event => submittedForms.add(event.target), {capture: true})
  if (config.confirmFormDiscard === 'true') {
    window.addEventListener('beforeunload', event => {
      // (Covered, the input is held out of the page: ended, yet not leaving.)
      if (!leaving && (ended || hasUnsavedInput())) {
        event.preventDefault()
        event.returnValue = ''
      }
    })
  }
  stay?.addEventListener('click', core.extend)
  signOutButton?.addEventListener('click', signOut)
  window.sessionSecurity = {activity: core.noteActivity, extend: core.extend, signOut, expired: core.expired, handleResponse, report: core.report}
})()
