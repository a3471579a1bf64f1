'use strict'
// The timing core of static/session-security.js, driven with fake time: a fake clock with
// per-tab timers (a tab can be frozen, like a sleeping laptop or a throttled background tab),
// a fake server that merges idle_for like the Rust ping route, and a fake cross-tab bus.
const test = require('node:test')
const assert = require('node:assert/strict')
const vm = require('node:vm')
const fs = require('node:fs')
const path = require('node:path')

// The readable source by default; SESSION_SECURITY_SCRIPT=dist runs the same tests on the
// minified build that browsers get (tests/client_assets.rs runs both).
const FILE = process.env.SESSION_SECURITY_SCRIPT === 'dist' ? ['dist', 'session-security.min.js'] : ['session-security.js']
const SRC = fs.readFileSync(path.join(__dirname, '..', '..', 'static', ...FILE), 'utf8')
const PERSON = 'p-alice'
const W = 5, E = 10 // seconds
const T0 = 1_700_000_000_000
const flush = () => new Promise(r => setImmediate(r))
// The shared state as tabs send it (a list); named here, for the tests.
const FIELDS = ['lastActivity', 'serverActivity', 'lastAnswer', 'warnAfterMs', 'expireAfterMs', 'signedOutAt', 'reason', 'failures', 'failure', 'person', 'personAt']
const named = list => Object.fromEntries(FIELDS.map((name, i) => [name, list[i]]))
const listed = state => FIELDS.map(name => state[name])

function world({up = true} = {}) {
  const w = {t: T0, timers: new Map(), id: 0, tabs: [], shared: null, pings: [], up}
  w.server = {stamp: T0, expired: false, reason: 'idle', W, E, status: null, hang: false, person: PERSON}
  const sec = ms => Math.floor(ms / 1000) * 1000 // the server stores whole seconds
  w.visit = () => { if (!w.server.expired) w.server.stamp = sec(w.t) } // a request from elsewhere
  w.fetch = (tab, url, opts) => {
    const u = new URL(url, 'http://127.0.0.1')
    w.pings.push({t: w.t, tab: tab.i, idle: Number(u.searchParams.get('idle_for')), path: u.pathname, opts})
    if (!w.up) return Promise.reject(new TypeError('Failed to fetch'))
    const sv = w.server, res = (status, body) => Promise.resolve({status, ok: status >= 200 && status < 300,
      json: () => typeof body === 'string' ? Promise.reject(new SyntaxError('not json')) : Promise.resolve(body)})
    // A request that hangs until it is aborted.
    if (sv.hang) return new Promise((resolve, reject) => opts.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))
    if (sv.status) return res(sv.status, sv.body ?? (sv.status === 200 ? '<html>login</html>' : {error: 'x'}))
    if (sv.expired || w.t - sv.stamp >= sv.E * 1000) { sv.expired = true; return res(401, {state: 'expired', reason: sv.reason}) }
    const n = Number(u.searchParams.get('idle_for'))
    sv.stamp = Math.max(sv.stamp, sec(w.t - n * 1000))
    return res(200, {state: 'active', idle_for: Math.floor((w.t - sv.stamp) / 1000), warn_after: sv.W, expire_after: sv.E, person: sv.person})
  }
  // Run every timer due up to now + ms (skipping frozen tabs), letting promises settle in between.
  w.advance = async ms => {
    const end = w.t + ms
    for (let fired = 0; ; fired++) {
      if (fired > 5000) throw new Error('timer storm: over 5000 timers fired in one advance')
      await flush()
      let next
      for (const [id, tm] of w.timers) if (tm.at <= end && !tm.tab.frozen && (!next || tm.at < next[1].at)) next = [id, tm]
      if (!next) break
      w.timers.delete(next[0])
      w.t = Math.max(w.t, next[1].at)
      next[1].fn()
    }
    w.t = end
    await flush()
  }
  w.tab = (opts = {}) => {
    const tab = {i: w.tabs.length, lead: w.tabs.length === 0, frozen: false, shown: null, shows: [], veiled: false,
      dead: null, left: null, reloaded: false, covered: !!opts.cover, log: [], calls: [], sends: 0, unreached: false,
      failures: [], reachable: 0, warns: [], ...opts}
    // The console of this tab: what the core warns (copied out of the script's realm).
    const console = {warn: (...args) => tab.warns.push(JSON.parse(JSON.stringify(args)))}
    const ctx = vm.createContext({module: {exports: {}}, console, AbortController,
      setTimeout: (fn, ms) => { const id = ++w.id; w.timers.set(id, {at: w.t + Math.max(0, ms || 0), fn, tab}); return id },
      clearTimeout: id => w.timers.delete(id)})
    vm.runInContext(SRC, ctx)
    tab.lib = ctx.module.exports
    const person = 'person' in opts ? opts.person : PERSON
    tab.core = tab.lib.Core({warnAfter: opts.W || W, expireAfter: opts.E || E, pingUrl: '/session-security/ping', person}, {
      now: () => w.t,
      isLeader: () => tab.lead,
      fetch: (u, o) => w.fetch(tab, u, o),
      load: () => w.shared && [...w.shared],
      send(s) {
        tab.sends++
        w.shared = [...s]
        for (const o of w.tabs) if (o !== tab && !o.closed) queueMicrotask(() => o.frozen || o.core.merge([...s]))
      },
      ui: {
        show(d) { if (tab.shown === null) tab.log.push(['show', w.t]); tab.shown = d; tab.shows.push(d) },
        hide() { if (tab.shown !== null) tab.log.push(['hide', w.t]); tab.shown = null },
        veil(v) { tab.veiled = !!v; tab.calls.push(['veil', v]) },
        expire(remote, reason) { tab.dead = {remote: !!remote, t: w.t, reason}; tab.log.push(['expire', w.t]); tab.calls.push(['expire', reason]); tab.veiled = true; tab.shown = null; return tab.covered },
        unreached(on) { tab.unreached = on },
        emit(name, detail) {
          if (name === 'unreachable') tab.failures.push({t: w.t, reason: detail.reason, status: detail.status})
          if (name === 'reachable') tab.reachable++
        },
        leave() { tab.left = w.t; tab.calls.push(['leave']); tab.veiled = true; tab.shown = null },
        reload() { tab.reloaded = true; tab.calls.push(['reload']) },
      },
    })
    // Tests read and write the state by name.
    const core = tab.core
    tab.core = {...core, state: () => named(core.state()), merge: state => core.merge(Array.isArray(state) ? state : listed(state))}
    w.tabs.push(tab)
    return tab
  }
  w.close = tab => { tab.closed = true; for (const [id, tm] of w.timers) if (tm.tab === tab) w.timers.delete(id) }
  return w
}

test('loads in node without a DOM and exports the core', () => {
  const ctx = vm.createContext({module: {exports: {}}, setTimeout, clearTimeout, console})
  vm.runInContext(SRC, ctx)
  assert.deepEqual(Object.keys(ctx.module.exports).sort(), ['Core', 'Lease', 'isPersonsActivity', 'nextUrl', 'plural'])
  assert.equal(ctx.sessionSecurity, undefined) // the DOM layer did not run
})

test('asks the server at W, then warns with the server-confirmed deadline', async () => {
  const w = world(), a = w.tab()
  await w.advance(W * 1000 - 1)
  assert.equal(w.pings.length, 0)
  assert.equal(a.shown, null)
  await w.advance(1)
  assert.equal(w.pings.length, 1)
  const p = w.pings[0]
  assert.equal(p.path, '/session-security/ping')
  assert.equal(p.idle, W)
  assert.equal(p.opts.method, 'POST')
  assert.equal(p.opts.credentials, undefined, "fetch's default: same-origin")
  assert.deepEqual({...p.opts.headers}, {Accept: 'application/json'})
  assert.equal(a.shown, T0 + E * 1000, 'counts down to last activity + E as the server sees it')
})

test('a server that saw more recent activity cancels the warning and re-arms', async () => {
  const w = world(), a = w.tab()
  await w.advance(3000)
  w.visit() // another device at T0+3 s
  await w.advance(2000)
  assert.equal(w.pings.length, 1)
  assert.equal(a.shown, null, 'no warning: the server is only 2 s idle')
  assert.equal(a.core.state().lastActivity, T0 + 3000, 'adopted the server activity')
  await w.advance(2999)
  assert.equal(w.pings.length, 1)
  await w.advance(1)
  assert.equal(w.pings.length, 2, 're-armed at the new activity + W')
  assert.equal(a.shown, T0 + 3000 + E * 1000)
})

test('expires at E on 401, never asking early, with exactly two pings per idle cycle', async () => {
  const w = world(), a = w.tab()
  await w.advance(E * 1000 + 249)
  assert.equal(w.pings.length, 1)
  assert.equal(a.dead, null)
  await w.advance(1)
  assert.equal(w.pings.length, 2)
  assert.equal(w.pings[1].t, T0 + E * 1000 + 250)
  assert.deepEqual(a.dead, {remote: false, t: T0 + E * 1000 + 250, reason: 'idle'})
  assert.ok(a.core.state().signedOutAt >= a.core.state().lastActivity, 'shared state says signed out')
  await w.advance(60_000)
  assert.equal(w.pings.length, 2, 'no pings after expiry')
})

test('unreachable server: warns, retries, and expires on the local clock when idle reaches E', async () => {
  const w = world({up: false}), a = w.tab()
  await w.advance(W * 1000)
  assert.equal(w.pings.length, 1)
  assert.equal(a.shown, T0 + E * 1000, 'warns locally when idle >= W')
  assert.equal(a.unreached, false, 'no activity of the person went unreported')
  assert.equal(a.dead, null, 'not expired: local idle < E')
  await w.advance(E * 1000 - W * 1000 - 1)
  assert.deepEqual(w.pings.map(p => p.t - T0), [W * 1000, W * 1000 + 2000], 'one retry 2 s later; the next (4 s later) would be after E')
  assert.equal(a.dead, null)
  await w.advance(1)
  assert.deepEqual(w.pings.map(p => p.t - T0), [W * 1000, W * 1000 + 2000, E * 1000], 'asked once more at E')
  assert.deepEqual(a.dead, {remote: false, t: T0 + E * 1000, reason: 'idle'}, 'expired: local idle >= E, no answer')
})

test('unreachable server while active: the warning counts down to the server\'s deadline, no local expiry', async () => {
  const w = world({up: false}), a = w.tab()
  for (let i = 0; i < 15; i++) { await w.advance(2000); a.core.noteActivity() }
  assert.deepEqual(w.pings.map(p => p.t - T0), [5000, 7000, 11000, 19000], 'the keepalive at W, then retries 2, 4, 8 s after each failure')
  assert.deepEqual(w.pings.map(p => p.idle), [1, 1, 1, 1], 'each carries the activity the server has not heard of')
  assert.equal(a.core.state().serverActivity, T0, 'the server never heard of the activity')
  assert.equal(a.core.state().lastActivity, T0 + 30_000)
  assert.equal(a.shown, T0 + E * 1000, 'counts down to the server\'s deadline, not the local one')
  assert.equal(a.unreached, true)
  assert.equal(a.dead, null, 'local idle < E')
  assert.equal(a.warns.length, 1, 'one console warning for the run')
})

test('403, 500 and a non-JSON 200 are treated as unreachable', async () => {
  for (const status of [403, 500, 200]) {
    const w = world(), a = w.tab()
    w.server.status = status
    await w.advance(W * 1000)
    assert.equal(a.shown, T0 + E * 1000, `${status}: local warning`)
    assert.equal(a.dead, null, `${status}: no expiry before E`)
    await w.advance((E - W) * 1000 + 250)
    assert.ok(a.dead, `${status}: local expiry at E`)
  }
})

test('a 401 with state expired or anonymous expires, for its reason; anything else is a failure', async () => {
  for (const [status, body, reason] of [
    [401, {state: 'anonymous'}, 'signed-out'],
    [401, {state: 'expired', reason: 'idle'}, 'idle'],
    [401, {state: 'expired', reason: 'absolute'}, 'absolute'],
    [401, {state: 'expired', reason: 'invalid'}, 'invalid'],
    [401, {state: 'expired'}, 'invalid'],
    [401, {state: 'expired', reason: 'other-person'}, 'invalid'],
    [401, {error: 'not_signed_in'}, null],
    [200, {state: 'expired', reason: 'idle'}, null],
    [200, {state: 'anonymous'}, null],
    [200, {hello: 1}, null],
  ]) {
    const label = `${status} ${JSON.stringify(body)}`
    const w = world(), a = w.tab()
    w.fetch = () => Promise.resolve({status, ok: status === 200, json: () => Promise.resolve(body)})
    await w.advance(W * 1000)
    assert.deepEqual(a.dead, reason && {remote: false, t: T0 + W * 1000, reason}, label)
    assert.deepEqual(a.failures, reason ? [] : [{t: T0 + W * 1000, reason: 'failed', status}], label)
  }
})

test('wake after sleeping past E: page hidden at once, expires on 401', async () => {
  const w = world(), a = w.tab()
  a.frozen = true
  w.t += 3600_000 // the laptop slept; no timer ran
  a.frozen = false
  a.core.wake()
  assert.equal(a.veiled, true, 'content hidden synchronously, before any answer')
  await w.advance(0)
  assert.equal(w.pings.length, 1, 'confirmed with the server')
  assert.equal(w.pings[0].idle, 3600)
  assert.ok(a.dead)
})

test('wake after sleep: unreachable server expires, a server active elsewhere resumes', async () => {
  const w1 = world({up: false}), a = w1.tab()
  w1.t += E * 1000 + 1
  a.core.wake()
  await w1.advance(0)
  assert.ok(a.dead, 'unreachable and local idle >= E')

  const w2 = world(), b = w2.tab()
  w2.t += 60_000
  w2.visit() // the user was active on another device
  b.core.wake()
  assert.equal(b.veiled, true)
  await w2.advance(0)
  assert.equal(b.dead, null)
  assert.equal(b.veiled, false, 'page shown again')
  assert.equal(b.shown, null)
  assert.equal(b.core.state().lastActivity, w2.t, 'the activity elsewhere was adopted')
})

test('a stale tab does not expire the others: shared state is checked first', async () => {
  const w = world(), a = w.tab(), b = w.tab()
  a.frozen = true // leader frozen: misses messages and timers
  for (let i = 0; i < 20; i++) { await w.advance(1500); b.core.noteActivity() } // 30 s of activity in b
  w.up = false // and the server is unreachable when a wakes
  a.frozen = false
  a.core.wake()
  assert.equal(a.veiled, false, 'not past E according to the shared state')
  await w.advance(1000) // a's stale timers fire too
  assert.equal(a.dead, null)
  assert.equal(b.dead, null)
})

test('keepalive: typing without requests for 4E never lets the server stamp expire', async () => {
  const w = world(), a = w.tab()
  for (let i = 0; i < 40; i++) {
    await w.advance(1000)
    a.core.noteActivity()
    assert.ok(w.t - w.server.stamp < E * 1000, `server idle ${w.t - w.server.stamp} ms at ${w.t - T0}`)
  }
  assert.equal(a.dead, null)
  assert.equal(a.shown, null)
  assert.ok(w.pings.length >= 4 && w.pings.length <= 9, `about one ping per W: ${w.pings.length}`)
  assert.ok(w.pings.every(p => p.idle < W), 'keepalives carry the real, small idle_for')
})

test('three idle tabs: only the leader pings, at most 2 pings per warn+expire cycle', async () => {
  const w = world(), tabs = [w.tab(), w.tab(), w.tab()]
  await w.advance(W * 1000 + 10)
  assert.equal(w.pings.length, 1)
  for (const t of tabs) assert.equal(t.shown, T0 + E * 1000, `tab ${t.i} warns`)
  await w.advance((E - W) * 1000 + 5000)
  assert.equal(w.pings.length, 2)
  assert.ok(w.pings.every(p => p.tab === 0))
  assert.deepEqual(tabs.map(t => !!t.dead), [true, true, true])
  assert.deepEqual(tabs.map(t => t.dead.remote), [false, true, true])
})

test('three idle tabs over several cycles kept alive elsewhere: <= 2 pings per cycle', async () => {
  const w = world(); [w.tab(), w.tab(), w.tab()]
  for (let cycle = 1; cycle <= 4; cycle++) {
    await w.advance(9000) // idle through the warning...
    w.visit() // ...then another device makes a request before E
    await w.advance(1000)
    assert.ok(w.pings.length <= 2 * cycle, `cycle ${cycle}: ${w.pings.length} pings`)
  }
  assert.ok(w.tabs.every(t => !t.dead))
})

test('activity in one tab hides the warning everywhere within 1 s, with one ping from that tab', async () => {
  const w = world(), tabs = [w.tab(), w.tab(), w.tab()]
  await w.advance(W * 1000 + 2000)
  assert.ok(tabs.every(t => t.shown))
  tabs[2].core.noteActivity()
  await w.advance(0)
  assert.ok(tabs.every(t => t.shown === null), 'all hidden without waiting for a ping')
  assert.equal(w.pings.length, 2)
  assert.deepEqual([w.pings[1].tab, w.pings[1].idle], [2, 0])
  await w.advance(W * 1000 - 1)
  assert.equal(w.pings.length, 2)
  assert.ok(tabs.every(t => !t.dead && t.shown === null))
})

test('Stay signed in: extend() pings with idle_for=0, hides, and resolves true', async () => {
  const w = world(), a = w.tab()
  await w.advance(W * 1000 + 3000)
  assert.ok(a.shown)
  const p = a.core.extend()
  assert.equal(a.shown, null)
  assert.equal(await p, true)
  assert.equal(w.pings.at(-1).idle, 0)
  assert.equal(w.server.stamp, Math.floor(w.t / 1000) * 1000)
})

test('activity is throttled: one shared write per second, the first at once', async () => {
  const w = world(), a = w.tab(), b = w.tab()
  await w.advance(2000)
  const sends = () => a.sends + b.sends, before = sends()
  a.core.noteActivity()
  assert.equal(sends(), before + 1, 'first movement broadcast at once')
  await w.advance(0)
  assert.equal(b.core.state().lastActivity, w.t)
  for (let i = 0; i < 9; i++) { await w.advance(100); a.core.noteActivity(); b.core.noteActivity() }
  assert.equal(sends(), before + 1, 'nothing more within the second, in either tab')
  await w.advance(100)
  b.core.noteActivity()
  assert.equal(sends(), before + 2)
  await w.advance(0)
  assert.equal(a.core.state().lastActivity, w.t)
})

test('the leader gone: a follower steps in', async () => {
  const w = world(), a = w.tab(), b = w.tab()
  w.close(a)
  b.lead = true
  b.core.arm() // the tab layer does this when the lock is granted
  await w.advance(W * 1000)
  assert.equal(w.pings.length, 1)
  assert.equal(w.pings[0].tab, 1)
  assert.ok(b.shown)

  const w2 = world(), c = w2.tab({lead: false}) // no leader at all (e.g. lease not yet taken)
  await w2.advance(W * 1000 + 3999)
  assert.equal(w2.pings.length, 0, 'a follower waits for the leader first')
  await w2.advance(1)
  assert.equal(w2.pings.length, 1)
  assert.ok(c.shown)
})

test('a new tab loading announces activity the server saw; others adopt it', async () => {
  const w = world(), a = w.tab()
  await w.advance(W * 1000 + 1000)
  assert.ok(a.shown)
  w.visit() // the page load of the new tab
  const b = w.tab()
  await w.advance(0)
  assert.equal(a.shown, null)
  assert.equal(a.core.state().serverActivity, w.t)
  await w.advance(W * 1000 - 1)
  assert.equal(w.pings.length, 1)
  await w.advance(1)
  assert.equal(w.pings.length, 2)
  assert.equal(a.shown, w.t - W * 1000 + E * 1000)
  assert.ok(b.shown)
})

test('sign-out in one tab signs out the others', async () => {
  const w = world(), a = w.tab(), b = w.tab()
  await w.advance(1500)
  a.core.signOut()
  await w.advance(0)
  assert.equal(a.dead, null, 'the signing-out tab navigates itself')
  assert.deepEqual(b.dead, {remote: true, t: w.t, reason: 'signed-out'})
  await w.advance(60_000)
  assert.equal(w.pings.length, 0)
})

test('covered tab (unsaved input) reloads after sign-in elsewhere, pinging at most every 3 s', async () => {
  const w = world(), a = w.tab({cover: true})
  await w.advance(E * 1000 + 250)
  assert.ok(a.dead)
  assert.equal(a.veiled, true)
  const n = w.pings.length
  a.core.wake() // focus comes back, still signed out
  a.core.wake()
  await w.advance(0)
  assert.equal(w.pings.length, n + 1, 'one ping, then rate limited')
  await w.advance(1000)
  a.core.wake()
  await w.advance(0)
  assert.equal(w.pings.length, n + 1)
  await w.advance(1999)
  assert.equal(w.pings.length, n + 1)
  await w.advance(1)
  assert.equal(w.pings.length, n + 2, 'the wake within the 3 s asks at their end')
  assert.equal(a.veiled, true, 'still covered: 401')
  await w.advance(60_000)
  assert.equal(w.pings.length, n + 2, 'no ping loop while covered')

  w.server.expired = false // signed in again in another tab, whose page loads:
  w.visit()
  w.tab({lead: false})
  await w.advance(0)
  assert.equal(w.pings.length, n + 3)
  assert.equal(a.reloaded, true, 'the page is loaded anew (its draft sealed, to fill in)')
  assert.equal(a.veiled, true, 'nothing of the old page comes back before')
  assert.equal(a.left, null)
})

test('per-user timeouts from the ping answer are adopted and shared', async () => {
  const w = world(), a = w.tab(), b = w.tab()
  w.server.W = 20
  w.server.E = 30
  await w.advance(W * 1000)
  assert.equal(w.pings.length, 1)
  assert.equal(a.shown, null, 'idle 5 s < the real W of 20 s')
  assert.equal(b.core.state().warnAfterMs, 20_000)
  await w.advance(15_000)
  assert.equal(w.pings.length, 2)
  assert.equal(a.shown, T0 + 30_000)
  assert.equal(b.shown, T0 + 30_000)
  await w.advance(10_250)
  assert.ok(a.dead && b.dead)
  assert.equal(w.pings.length, 3)
})

test('a server that ignores idle_for cannot cause a ping storm', async () => {
  const w = world(), a = w.tab(), real = w.fetch
  w.fetch = (tab, u, o) => real(tab, u.replace(/idle_for=\d+/, 'idle_for=999999'), o) // never merges
  for (let i = 0; i < 8; i++) { await w.advance(1000); a.core.noteActivity() }
  const n = w.pings.length
  assert.ok(n >= 1 && n <= 4, `at most one ping per 2 s: ${n}`)
})

test('a time from the future in another tab\'s state is ignored, not taken as fresh activity', async () => {
  const w = world(), a = w.tab()
  await w.advance(3000)
  const future = w.t + 3600_000
  a.core.merge({lastActivity: future, serverActivity: future, lastAnswer: w.t, warnAfterMs: W * 1000, expireAfterMs: E * 1000, signedOutAt: future, personAt: future, person: 'p-bob'})
  assert.equal(a.core.state().lastActivity, T0, 'not clamped to now: ignored')
  assert.equal(a.core.state().serverActivity, T0)
  assert.equal(a.core.state().signedOutAt, 0, 'a future sign-out is ignored too')
  assert.equal(a.core.state().person, PERSON)
  assert.equal(a.dead, null)
  assert.equal(a.left, null)
  await w.advance(W * 1000 - 3000)
  assert.equal(w.pings.length, 1, 'still checks at W after the real last activity')
  assert.equal(w.pings[0].t, T0 + W * 1000)
  assert.ok(a.shown)
})

test('another tab\'s times within a second ahead (clock rounding) are taken as now', async () => {
  const w = world(), a = w.tab()
  await w.advance(3000)
  a.core.merge({lastActivity: w.t + 400, serverActivity: T0, lastAnswer: T0, warnAfterMs: W * 1000, expireAfterMs: E * 1000, signedOutAt: 0})
  assert.equal(a.core.state().lastActivity, w.t)
})

test('a hung ping is given up after 15 s: aborted, counted as unreachable, and the timers go on', async () => {
  const w = world(), a = w.tab({W: 20, E: 60})
  Object.assign(w.server, {W: 20, E: 60, hang: true})
  const typeFor = async seconds => { for (let i = 0; i < seconds; i++) { await w.advance(1000); a.core.noteActivity() } }
  await typeFor(21) // the keepalive at 20 s hangs
  assert.equal(w.pings.length, 1)
  const hung = w.pings[0]
  assert.equal(hung.opts.signal.aborted, false)
  w.server.hang = false
  await typeFor(13)
  assert.equal(w.pings.length, 1, 'nothing else while it hangs')
  await typeFor(2)
  assert.equal(hung.opts.signal.aborted, true, 'the request is aborted after 15 s')
  await typeFor(30)
  assert.ok(w.pings.length >= 2, `the timers went on: ${w.pings.length} pings`)
  assert.ok(w.t - w.server.stamp < 20_000, 'the keepalives reach the server again')
  assert.equal(a.dead, null)
  assert.equal(a.shown, null)
})

test('woken past the deadline with a hung ping: the page does not stay veiled for ever', async () => {
  const w = world(), a = w.tab()
  w.server.hang = true
  w.t += 3600_000
  a.core.wake()
  assert.equal(a.veiled, true)
  await w.advance(15_000)
  assert.ok(a.dead, 'given up after 15 s: local idle >= E, so it expires and leaves')
})

test('extend() while signed out does not ping and resolves false', async () => {
  const w = world(), a = w.tab()
  await w.advance(E * 1000 + 250)
  assert.ok(a.dead)
  const n = w.pings.length
  assert.equal(await a.core.extend(), false)
  await w.advance(5000)
  assert.equal(w.pings.length, n)
})

test('session-security:warn again when the deadline moves while the warning shows', async () => {
  const w = world(), a = w.tab(), b = w.tab({lead: false})
  await w.advance(W * 1000)
  assert.deepEqual(a.shows, [T0 + E * 1000])
  await w.advance(100)
  // Another tab's newer answer brings longer timeouts (the server's per-person values).
  a.core.merge({...b.core.state(), lastAnswer: w.t, expireAfterMs: 20_000})
  assert.deepEqual(a.shows, [T0 + E * 1000, T0 + 20_000], 'shown again with the new deadline')
  a.core.merge({...a.core.state()})
  assert.equal(a.shows.length, 2, 'not again while the deadline stays')
})

test('expired(): the page\'s own API call got the crate\'s 401; every tab ends as on expiry', async () => {
  const w = world(), a = w.tab(), b = w.tab()
  await w.advance(1500)
  a.core.expired()
  await w.advance(0)
  assert.deepEqual(a.dead, {remote: false, t: w.t, reason: 'invalid'}, 'no reason given: invalid')
  assert.deepEqual(b.dead, {remote: true, t: w.t, reason: 'invalid'})
  await w.advance(60_000)
  assert.equal(w.pings.length, 0, 'no pings once expired')
})

test('sign-out: a tab restored from the back/forward cache afterwards is loaded anew', async () => {
  const w = world(), a = w.tab()
  await w.advance(1500)
  a.core.signOut()
  a.core.restore()
  assert.equal(a.reloaded, true)
  assert.equal(w.pings.length, 0)
})

test('restored from the back/forward cache while signed in: veiled until the server says active', async () => {
  const w = world(), a = w.tab()
  await w.advance(2000)
  a.core.restore()
  assert.equal(a.veiled, true, 'hidden before any answer')
  assert.equal(w.pings.length, 1)
  await w.advance(0)
  assert.equal(a.veiled, false)
  assert.equal(a.dead, null)

  const w2 = world(), b = w2.tab()
  w2.server.expired = true // signed out on the server meanwhile
  await w2.advance(2000)
  b.core.restore()
  assert.equal(b.veiled, true)
  await w2.advance(0)
  assert.ok(b.dead, 'the 401 expires it')
  assert.equal(b.veiled, true)

  const w3 = world({up: false}), c = w3.tab()
  await w3.advance(2000)
  c.core.restore()
  await w3.advance(0)
  assert.equal(c.veiled, true, 'unreachable: stays hidden')
  assert.equal(c.dead, null)
})

test('keep_unsaved_forms: the covered page reloads for the same person only', async () => {
  for (const [signedIn, tabPerson, lifts] of [[PERSON, PERSON, true], ['p-bob', PERSON, false], [null, PERSON, false], [null, '', false], ['p-bob', '', false]]) {
    const label = `page of ${JSON.stringify(tabPerson)}, signed in: ${JSON.stringify(signedIn)}`
    const w = world(), a = w.tab({cover: true, person: tabPerson})
    await w.advance(E * 1000 + 250)
    assert.ok(a.dead, label)
    await w.advance(1000)
    w.server.expired = false
    w.server.person = signedIn
    w.visit()
    w.tab({lead: false, person: ''}) // a page load in another tab, whose person this tab does not learn
    await w.advance(0)
    assert.equal(a.reloaded, lifts, label)
    assert.equal(a.veiled, true, `${label}: nothing of the old page comes back`)
    assert.equal(a.left !== null, !lifts, `${label}: the draft is discarded and the tab leaves`)
    await w.advance(W * 1000)
    assert.equal(a.shown, null, `${label}: no timers on the old page`)
  }
})

test('another person\'s page load in this browser: the other tabs leave without signing that person out', async () => {
  const w = world(), a = w.tab(), b = w.tab({cover: true})
  await w.advance(2000)
  w.server.person = 'p-bob'
  w.visit()
  const bob = w.tab({lead: false, person: 'p-bob'})
  await w.advance(0)
  assert.ok(a.left !== null && b.left !== null, 'alice\'s tabs leave at once')
  assert.equal(a.dead, null, 'not an expiry: nothing shared')
  assert.equal(bob.core.state().signedOutAt, 0)
  await w.advance((W + 5) * 1000)
  assert.equal(bob.dead, null)
  assert.ok(bob.shown, 'bob\'s tab goes on')
})

test('the leader\'s ping answer names another person: that tab leaves too', async () => {
  const w = world(), a = w.tab()
  w.server.person = 'p-bob' // the cookie changed hands without a page load here
  await w.advance(W * 1000)
  assert.equal(w.pings.length, 1)
  assert.equal(a.left, T0 + W * 1000)
  await w.advance(60_000)
  assert.equal(w.pings.length, 1)
})

// Pings that get no answer about the session (a proxy's 403, a server error, the network, the
// timeout): the server saw nothing, so nothing moves as if it had; retried with backoff.
const BACKOFF = [2000, 4000, 8000, 16_000, 30_000, 30_000]
const deltas = times => times.slice(1).map((t, i) => t - times[i])

test('a refused or failed ping: serverActivity stays, the activity stays to report, one console warning, retries 2, 4, 8, 16, 30, 30 s', async () => {
  const CROSS = 'cross-site request: Origin does not match Host'
  for (const [label, fail, reason, status, error] of [
    ['403', w => Object.assign(w.server, {status: 403, body: {error: CROSS}}), 'refused', 403, CROSS],
    ['400', w => Object.assign(w.server, {status: 400, body: {error: 'idle_for: not a number'}}), 'refused', 400, 'idle_for: not a number'],
    ['500', w => Object.assign(w.server, {status: 500, body: '<h1>Internal Server Error</h1>'}), 'refused', 500],
    ['non-JSON 200', w => Object.assign(w.server, {status: 200, body: '<html>login</html>'}), 'failed', 200],
    ['network error', w => { w.up = false }, 'failed', 0],
  ]) {
    const w = world(), a = w.tab({E: 600})
    w.server.E = 600
    await w.advance(2000)
    a.core.noteActivity()
    fail(w)
    await w.advance(3000) // the keepalive, at the server's W
    assert.deepEqual(w.pings.map(p => [p.t - T0, p.idle]), [[5000, 3]], label)
    assert.equal(a.core.state().serverActivity, T0, `${label}: not moved to the activity the server never saw`)
    assert.equal(a.core.state().lastActivity, T0 + 2000, label)
    assert.deepEqual(a.failures, [{t: T0 + 5000, reason, status}], `${label}: told to the page`)
    assert.deepEqual(a.warns, [['session-security: ping failed', error ? {reason, status, error} : {reason, status}]], `${label}: the console names the answer`)
    assert.equal(a.shown, T0 + 600_000, `${label}: the warning counts down to the server's deadline`)
    assert.equal(a.unreached, true, `${label}: and says the activity did not reach the server`)

    await w.advance(BACKOFF.reduce((sum, d) => sum + d))
    const times = w.pings.map(p => p.t)
    assert.deepEqual(deltas(times), BACKOFF, `${label}: the retries`)
    assert.deepEqual(w.pings.map(p => p.idle), times.map(t => Math.floor((t - T0 - 2000) / 1000)), `${label}: each reports the activity at 2 s`)
    assert.equal(a.core.state().serverActivity, T0, label)
    assert.equal(a.failures.length, 7, `${label}: every failure is told`)
    assert.equal(a.warns.length, 1, `${label}: the console once for the run`)
    assert.equal(a.reachable, 0, label)
    assert.equal(a.dead, null, `${label}: local idle < E`)

    Object.assign(w, {up: true})
    Object.assign(w.server, {status: null, body: undefined})
    await w.advance(29_999)
    assert.equal(w.pings.length, 7, label)
    await w.advance(1)
    assert.equal(w.pings.length, 8, `${label}: the next retry, 30 s later, gets through`)
    assert.equal(a.core.state().serverActivity, T0 + 2000, `${label}: the server heard of the activity at last`)
    assert.equal(a.core.state().failures, 0, label)
    assert.equal(a.reachable, 1, `${label}: told that the server answers again`)
    assert.equal(a.unreached, false, label)
    assert.equal(a.shown, T0 + 602_000, `${label}: idle since, so the warning stays, to the server's new deadline`)

    fail(w)
    const before = w.t
    a.core.noteActivity() // in the warning: extend
    await w.advance(0)
    assert.deepEqual(w.pings.slice(8).map(p => p.t), [before], label)
    assert.equal(a.warns.length, 2, `${label}: a new run, warned once more`)
    await w.advance(2000)
    assert.deepEqual(w.pings.slice(8).map(p => p.t), [before, before + 2000], `${label}: the success reset the backoff`)
  }
})

test('a ping that times out: aborted after 15 s, told as timeout with status 0, retried 2 then 4 s after', async () => {
  const w = world(), a = w.tab({E: 600})
  Object.assign(w.server, {E: 600, hang: true})
  await w.advance(2000)
  a.core.noteActivity()
  await w.advance(3000 + 15_000 + 2000 + 8000)
  assert.equal(await a.core.extend(), true, 'Stay signed in while the retry hangs...')
  assert.equal(w.pings.length, 2, '...does not pile up another ping')
  await w.advance(7000 + 4000)
  assert.deepEqual(w.pings.map(p => p.t - T0), [5000, 22_000, 41_000])
  assert.ok(w.pings.slice(0, 2).every(p => p.opts.signal.aborted))
  assert.deepEqual(a.failures, [{t: T0 + 20_000, reason: 'timeout', status: 0}, {t: T0 + 37_000, reason: 'timeout', status: 0}])
  assert.deepEqual(a.warns, [['session-security: ping failed', {reason: 'timeout', status: 0}]])
  assert.equal(a.core.state().serverActivity, T0)
  assert.equal(a.core.state().lastActivity, T0 + 30_000, 'the press at 30 s, to report')
  assert.equal(w.pings[2].idle, 11)
})

test('failures are shared: followers hear of them and back off with the leader, who alone pings', async () => {
  const w = world(), a = w.tab({E: 600}), b = w.tab({E: 600})
  Object.assign(w.server, {E: 600, status: 503})
  await w.advance(2000)
  b.core.noteActivity()
  await w.advance(3000 + 2000 + 4000 + 8000)
  assert.deepEqual(w.pings.map(p => [p.tab, p.t - T0]), [[0, 5000], [0, 7000], [0, 11_000], [0, 19_000]])
  assert.deepEqual(b.failures, a.failures, 'the page hears of each failure in every tab')
  assert.equal(b.failures.length, 4)
  assert.equal(b.warns.length, 1)
  assert.equal(b.shown, T0 + 600_000)
  assert.equal(b.unreached, true)
  assert.equal(b.core.state().serverActivity, T0)
})

test('Stay signed in whose ping is refused: the warning comes back to the server\'s deadline, saying so; a retry that gets through closes it', async () => {
  const w = world(), a = w.tab({E: 30})
  w.server.E = 30
  await w.advance(W * 1000 + 3000)
  assert.equal(a.shown, T0 + 30_000)
  w.server.status = 403
  const extended = a.core.extend()
  assert.equal(a.shown, null, 'hidden at once, before the answer')
  assert.equal(await extended, true, 'still signed in')
  await w.advance(0)
  assert.deepEqual(w.pings.map(p => [p.t - T0, p.idle]), [[5000, 5], [8000, 0]])
  assert.equal(a.shown, T0 + 30_000, 'shown again, to the deadline of the server, which never heard of the press')
  assert.equal(a.unreached, true)
  assert.equal(a.core.state().serverActivity, T0)
  assert.equal(a.core.state().lastActivity, T0 + 8000, 'the press stays to be reported')
  assert.deepEqual(a.failures, [{t: T0 + 8000, reason: 'refused', status: 403}])

  w.server.status = null
  await w.advance(1999)
  assert.equal(w.pings.length, 2)
  await w.advance(1)
  assert.deepEqual(w.pings.map(p => [p.t - T0, p.idle]).at(-1), [10_000, 2], 'the retry reports the press')
  assert.equal(w.server.stamp, T0 + 8000, 'the server heard of it')
  assert.equal(a.shown, null, 'closed')
  assert.equal(a.unreached, false)
  assert.equal(a.reachable, 1)
  assert.deepEqual(a.log, [['show', T0 + 5000], ['hide', T0 + 8000], ['show', T0 + 8000], ['hide', T0 + 10_000]])
  await w.advance(W * 1000 - 2001)
  assert.equal(w.pings.length, 3, 'then the usual schedule: the next check at the press + W')
  await w.advance(1)
  assert.equal(w.pings.length, 4)
})

test('while pings fail, activity waits for the retries; Stay signed in asks at once, at most once per 2 s', async () => {
  const w = world(), a = w.tab({E: 600})
  Object.assign(w.server, {E: 600, status: 403})
  await w.advance(W * 1000) // the warning check fails: failure 1, the retry due 2 s later
  assert.equal(w.pings.length, 1)
  assert.equal(a.unreached, false, 'idle: nothing unreported yet')
  await w.advance(1000)
  a.core.noteActivity() // a key in the open warning
  assert.equal(w.pings.length, 1, 'no ping of its own')
  assert.equal(a.shown, T0 + 600_000, 'the warning stays: the server has not heard')
  assert.equal(a.unreached, true)
  a.core.extend() // 1 s after the failure
  assert.equal(w.pings.length, 1, 'Stay signed in within 2 s of a failure: the retry carries it')
  await w.advance(1000)
  assert.deepEqual(w.pings.map(p => [p.t - T0, p.idle]), [[5000, 5], [7000, 1]], 'the retry, on time, with the key press')
  await w.advance(2000) // failure 2: the next retry 4 s after it
  a.core.extend()
  assert.deepEqual(w.pings.map(p => p.t - T0), [5000, 7000, 9000], 'pressed 2 s after a failure: asked at once')
  await w.advance(7999)
  assert.equal(w.pings.length, 3, 'its failure is the third: the next retry 8 s after it')
  await w.advance(1)
  assert.deepEqual(w.pings.map(p => p.t - T0), [5000, 7000, 9000, 17_000])
  assert.equal(a.warns.length, 1)
})

// Why the session ended, in the expire call (the tab layer puts it in the event's detail).
test('the server\'s reason reaches every tab: the tabs that end because one did give the same reason', async () => {
  for (const reason of ['idle', 'absolute', 'invalid']) {
    const w = world(), tabs = [w.tab(), w.tab(), w.tab({lead: false})]
    Object.assign(w.server, {expired: true, reason})
    await w.advance(W * 1000)
    assert.deepEqual(tabs.map(t => t.dead), [
      {remote: false, t: T0 + W * 1000, reason},
      {remote: true, t: T0 + W * 1000, reason},
      {remote: true, t: T0 + W * 1000, reason},
    ], reason)
  }
  const w = world(), a = w.tab(), b = w.tab()
  w.server.expired = 'anonymous'
  w.fetch = () => Promise.resolve({status: 401, ok: false, json: () => Promise.resolve({state: 'anonymous'})})
  await w.advance(W * 1000)
  assert.deepEqual([a.dead.reason, b.dead.reason], ['signed-out', 'signed-out'], 'nobody signed in: signed out elsewhere')
})

test('expired(reason): the page\'s API answer says why; every tab gives it', async () => {
  for (const [given, reason] of [['absolute', 'absolute'], ['idle', 'idle'], ['signed-out', 'signed-out'], ['other-person', 'invalid'], [undefined, 'invalid']]) {
    const w = world(), a = w.tab(), b = w.tab()
    await w.advance(1500)
    a.core.expired(given)
    await w.advance(0)
    assert.deepEqual([a.dead, b.dead], [{remote: false, t: w.t, reason}, {remote: true, t: w.t, reason}], String(given))
  }
})

test('the reason is merged with the newest signedOutAt; an unknown one reads as invalid', async () => {
  const w = world(), a = w.tab()
  await w.advance(2000)
  a.core.noteActivity()
  await w.advance(1000)
  const base = a.core.state()
  a.core.merge({...base, signedOutAt: T0 + 1000, reason: 'absolute'}) // before the last activity
  assert.equal(a.dead, null)
  assert.equal(a.core.state().reason, 'absolute')
  a.core.merge({...base, signedOutAt: T0 + 500, reason: 'idle'}) // older: not taken
  assert.equal(a.core.state().reason, 'absolute')
  assert.equal(a.core.state().signedOutAt, T0 + 1000)
  a.core.merge({...base, signedOutAt: w.t, reason: '<junk>'})
  assert.deepEqual(a.dead, {remote: true, t: w.t, reason: 'invalid'})
})

test('a local expiry without any answer gives idle, in every tab', async () => {
  const w = world({up: false}), a = w.tab(), b = w.tab()
  await w.advance(E * 1000)
  assert.deepEqual([a.dead, b.dead], [{remote: false, t: T0 + E * 1000, reason: 'idle'}, {remote: true, t: T0 + E * 1000, reason: 'idle'}])
})

test('report() tells the server this tab\'s idle time now, unless a ping is out or the session is over', async () => {
  const w = world(), a = w.tab()
  await w.advance(1000)
  a.core.report()
  assert.deepEqual(w.pings.map(p => [p.t - T0, p.idle]), [[1000, 1]])
  w.server.hang = true
  await w.advance(1000)
  a.core.report()
  a.core.report()
  assert.equal(w.pings.length, 2, 'one at a time')
  w.server.hang = false
  await w.advance(15_000)
  w.server.expired = true
  a.core.report()
  await w.advance(0)
  assert.equal(a.dead.reason, 'idle')
  const pings = w.pings.length
  a.core.report()
  assert.equal(w.pings.length, pings, 'over: nothing to report')
})

// The phases (ACTIVE, CHECKING, ENDED, COVERED: see the script), one case per transition, as the
// page sees them: the UI calls each transition makes (veil, expire, leave, reload), and what the
// tab still does in the phase it reached (pings, activity, extend).
test('phases: every transition, and what each phase still does', async () => {
  const cases = [
    ['ACTIVE → CHECKING (woken past the deadline) → ACTIVE (the server saw activity elsewhere)', async () => {
      const w = world(), a = w.tab()
      w.t += 60_000
      w.visit()
      a.core.wake()
      assert.deepEqual(a.calls, [['veil', true]], 'veiled before any answer')
      a.core.noteActivity()
      assert.equal(a.core.state().lastActivity, T0, 'CHECKING: activity does not count')
      await w.advance(0)
      assert.deepEqual(a.calls, [['veil', true], ['veil', false]])
      a.core.noteActivity()
      assert.equal(a.core.state().lastActivity, w.t, 'ACTIVE again: it counts')
    }],
    ['ACTIVE → CHECKING (restored from the back/forward cache) → ENDED (expired on the server)', async () => {
      const w = world(), a = w.tab()
      await w.advance(2000)
      w.server.expired = true
      a.core.restore()
      assert.deepEqual(a.calls, [['veil', true]])
      // CHECKING: "Stay signed in" asks the server, without counting as activity; its answer ends it.
      assert.equal(await a.core.extend(), false)
      assert.equal(a.core.state().lastActivity, T0)
      await w.advance(0)
      assert.deepEqual(a.calls, [['veil', true], ['expire', 'idle']], 'never unveiled')
    }],
    ['CHECKING → ENDED without any answer, once idle for expireAfter', async () => {
      const w = world({up: false}), a = w.tab()
      w.t += E * 1000
      a.core.wake()
      await w.advance(0)
      assert.deepEqual(a.calls, [['veil', true], ['expire', 'idle']])
    }],
    ['ACTIVE → ENDED: the server says expired; then no pings, no activity, extend resolves false', async () => {
      const w = world(), a = w.tab()
      w.server.reason = 'absolute'
      w.server.expired = true
      await w.advance(W * 1000)
      assert.deepEqual(a.calls, [['expire', 'absolute']])
      const pings = w.pings.length
      a.core.noteActivity()
      a.core.report()
      assert.equal(await a.core.extend(), false)
      await w.advance(60_000)
      assert.equal(w.pings.length, pings, 'ENDED: nothing more is asked')
      assert.deepEqual(a.calls, [['expire', 'absolute']])
    }],
    ['ACTIVE → ENDED: signOut(), shared: the other tab ends for the same reason', async () => {
      const w = world(), a = w.tab(), b = w.tab()
      await w.advance(1500)
      a.core.signOut()
      await w.advance(0)
      assert.deepEqual([a.calls, b.calls], [[], [['expire', 'signed-out']]], 'the tab layer navigates the signing-out tab itself')
      a.core.restore()
      assert.deepEqual(a.calls, [['reload']], 'ENDED and restored from the back/forward cache: loaded anew')
    }],
    ['ACTIVE → ENDED: someone else is signed in', async () => {
      const w = world(), a = w.tab()
      w.server.person = 'p-bob'
      await w.advance(W * 1000)
      assert.deepEqual(a.calls, [['leave']])
    }],
    ['ENDED → COVERED (the page keeps unsaved input) → reload (the same person is back)', async () => {
      const w = world(), a = w.tab({cover: true})
      await w.advance(E * 1000 + 250)
      assert.deepEqual(a.calls, [['expire', 'idle']])
      w.server.expired = false
      w.visit()
      a.core.restore() // COVERED and restored: asks the server (revive), does not reload
      await w.advance(0)
      assert.deepEqual(a.calls, [['expire', 'idle'], ['reload']])
    }],
    ['COVERED → ENDED: someone else is signed in, through another tab', async () => {
      const w = world(), a = w.tab({cover: true})
      await w.advance(E * 1000 + 250)
      w.tab({lead: false, person: 'p-bob'}) // bob's page loads, sharing bob as the person
      await w.advance(0)
      assert.deepEqual(a.calls, [['expire', 'idle'], ['leave']])
      const asked = () => w.pings.filter(ping => ping.tab === a.i).length
      const pings = asked()
      await w.advance(60_000)
      assert.equal(asked(), pings, 'ENDED: no more asking')
    }],
  ]
  for (const [label, run] of cases) {
    await test(label, run)
  }
})
