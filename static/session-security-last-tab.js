// session-security-last-tab.js: with end_with_last_tab, the session ends soon after the site's
// last open tab closes. Loaded right after session-security.js by its own tag, only when the
// setting is on:
//
//   <script src=".../session-security-last-tab.<hash>.js" defer
//           data-ping-url="/session-security/ping" data-end-with-last-tab="<grace in s>">
//
// A tab that goes (closed, reloaded, navigated away) sends POST {pingUrl}?closing, a beacon:
// the server moves the session's last activity back so that it ends after the grace. It also
// tells the other tabs (a message on a BroadcastChannel). Every page of the site that is open
// reports its idle time (sessionSecurity.report(), which is not activity) 1 s after it loads
// or hears of a closing tab, so the closing tab's request (sent as the page goes: it arrives
// first) is undone; and again halfway through the grace, in case a slow one arrived later.
// So a reload, a link to another page of the site or a second tab closing never ends it.
// Nothing is sent once the session is over.
;(() => {
  'use strict'

  const script = document.currentScript
  const pingUrl = script?.dataset.pingUrl
  const graceSeconds = Number(script?.dataset.endWithLastTab)
  if (!pingUrl || !(graceSeconds > 0)) {
    return
  }
  let ended = false
  let channel = null
  try {
    channel = new BroadcastChannel('session_security ' + pingUrl + ' last tab')
  } catch (error) {
    // No BroadcastChannel: the other tabs do not hear of a closing one; its request is then
    // undone only by their own pings and by a page of the site that loads.
  }

  function report() {
    if (!ended) {
      window.sessionSecurity?.report()
    }
  }
  function reportOpen() {
    setTimeout(report, 1000)
    setTimeout(report, graceSeconds * 500)
  }

  reportOpen()
  if (channel) {
    channel.onmessage = reportOpen
  }
  document.addEventListener('session-security:expire', () => {
    ended = true
  })
  window.addEventListener('pagehide', () => {
    if (!ended) {
      navigator.sendBeacon(pingUrl + '?closing')
      channel?.postMessage(0)
    }
  })
})()
