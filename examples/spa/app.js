// The notes SPA's own script: its notes UI, and its own session warning built on
// rocket_session_security's script (loaded just before this one, from the tag the
// server renders with `snippet().script_tag()`).
//
// The crate's script does the timing, the pings and the cross-tab sync; it tells
// this page what happens through events on `document`:
//   session-security:warn    the warning is due; detail.secondsLeft until expiry
//   session-security:extend  the warning is over (activity here, in another tab, or
//                            on another device)
//   session-security:expire  the session is over; the script now goes to the login
//                            page (and puts `session_security_expired` on <html>)
// and takes orders through `window.sessionSecurity`:
//   .extend()    "I am here": pings the server now and closes the warning
//   .signOut()   signs out every tab (posts to the logout URL)
//   .activity()  activity the script cannot see itself (it already watches the
//                person's pointer, keys, scrolling and input on this page)
//   .handleResponse(response)  true when an API answer is the crate's JSON 401:
//                the script then ends the session in every tab, as on expiry
//                (veil, then the login page), so this page never navigates itself
// No inline script or style anywhere: this runs under CSP `default-src 'self'`.
'use strict'
;(() => {
  const byId = id => document.getElementById(id)
  const banner = byId('warning'), countdown = byId('countdown'), list = byId('notes')
  const form = byId('new-note'), input = byId('note-text'), status = byId('status')
  let countdownTimer = 0, deadline = 0

  // The API. The crate's JSON 401 means the session is over (or never was): one call
  // hands it to the crate's script, which ends it in every tab of the app alike.
  async function api(path, body) {
    const response = await fetch(path, {
      method: body ? 'POST' : 'GET',
      headers: body ? {Accept: 'application/json', 'Content-Type': 'application/json'} : {Accept: 'application/json'},
      body: body && JSON.stringify(body),
    })
    if (await window.sessionSecurity?.handleResponse(response)) {
      throw new Error('signed out')
    }
    const data = await response.json()
    if (!response.ok) {
      throw new Error(data.error || response.statusText)
    }
    return data
  }

  // textContent only: notes are user data, never parsed as HTML.
  const showNotes = data => list.replaceChildren(...data.notes.map(text => {
    const item = document.createElement('li')
    item.textContent = text
    return item
  }))
  const report = error => { status.textContent = error.message }

  api('/api/me').then(me => { byId('user').textContent = 'signed in as ' + me.user }).catch(report)
  api('/api/notes').then(showNotes).catch(report)
  // Background refresh (notes added in other tabs): /api/poll/ is passive on the server,
  // so this never keeps an idle session alive.
  setInterval(() => document.hidden || api('/api/poll/notes').then(showNotes).catch(report), 20e3)

  form.addEventListener('submit', event => {
    event.preventDefault()
    api('/api/notes', {text: input.value}).then(data => {
      showNotes(data)
      form.reset()
      status.textContent = 'Saved.'
    }).catch(report)
  })

  // The app's own warning banner.
  const tick = () => {
    const seconds = Math.max(0, Math.ceil((deadline - Date.now()) / 1e3))
    countdown.textContent = seconds + (seconds == 1 ? ' second' : ' seconds')
  }
  const hideBanner = () => {
    clearInterval(countdownTimer)
    banner.hidden = true
  }
  document.addEventListener('session-security:warn', event => {
    deadline = Date.now() + event.detail.secondsLeft * 1e3
    tick()
    clearInterval(countdownTimer)
    countdownTimer = setInterval(tick, 500)
    banner.hidden = false
  })
  document.addEventListener('session-security:extend', hideBanner)
  document.addEventListener('session-security:expire', () => {
    hideBanner()
    // The data goes at once, before the browser reaches the login page (app.css also
    // hides the page while <html> has the class session_security_expired).
    list.replaceChildren()
    byId('user').textContent = status.textContent = ''
  })

  // The JS API. Optional chaining: should the crate's script be missing, the buttons
  // do nothing rather than throw.
  byId('stay').addEventListener('click', () => window.sessionSecurity?.extend())
  byId('sign-out').addEventListener('click', () => window.sessionSecurity?.signOut())
})()
