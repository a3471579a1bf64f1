'use strict'
// The timing core of static/session-security.js, driven with fake time: a fake clock with
// per-tab timers (a tab can be frozen, like a sleeping laptop or a throttled background tab),
// a fake server that merges idle_for like the Rust ping route, and a fake cross-tab bus.
const test = require('node:test')
const assert = require('node:assert/strict')
const vm = require('node:vm')
const fs = require('node:fs')
const path = require('node:path')

const SRC = fs.readFileSync(path.join(__dirname, '..', '..', 'static', 'session-security.js'), 'utf8')
const W = 5, E = 10 // seconds
const T0 = 1_700_000_000_000
const flush = () => new Promise(r => setImmediate(r))

function world({up = true} = {}) {
  const w = {t: T0, timers: new Map(), id: 0, tabs: [], shared: null, pings: [], up}
  w.server = {stamp: T0, expired: false, W, E, status: null}
  const sec = ms => Math.floor(ms / 1000) * 1000 // the server stores whole seconds
  w.visit = () => { if (!w.server.expired) w.server.stamp = sec(w.t) } // a request from elsewhere
  w.fetch = (tab, url, opts) => {
    const u = new URL(url, 'http://127.0.0.1')
    w.pings.push({t: w.t, tab: tab.i, idle: Number(u.searchParams.get('idle_for')), path: u.pathname, opts})
    if (!w.up) return Promise.reject(new TypeError('Failed to fetch'))
    const sv = w.server, res = (status, body) => Promise.resolve({status, ok: status >= 200 && status < 300,
      json: () => typeof body === 'string' ? Promise.reject(new SyntaxError('not json')) : Promise.resolve(body)})
    if (sv.status) return res(sv.status, sv.status === 200 ? '<html>login</html>' : {error: 'x'})
    if (sv.expired || w.t - sv.stamp >= sv.E * 1000) { sv.expired = true; return res(401, {state: 'expired'}) }
    const n = Number(u.searchParams.get('idle_for'))
    sv.stamp = Math.max(sv.stamp, sec(w.t - n * 1000))
    return res(200, {state: 'active', idle_for: Math.floor((w.t - sv.stamp) / 1000), warn_after: sv.W, expire_after: sv.E})
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
    const tab = {i: w.tabs.length, lead: w.tabs.length === 0, frozen: false, shown: null, veiled: false,
      dead: null, covered: !!opts.cover, log: [], sends: 0, ...opts}
    const ctx = vm.createContext({module: {exports: {}}, console,
      setTimeout: (fn, ms) => { const id = ++w.id; w.timers.set(id, {at: w.t + Math.max(0, ms || 0), fn, tab}); return id },
      clearTimeout: id => w.timers.delete(id)})
    vm.runInContext(SRC, ctx)
    tab.lib = ctx.module.exports
    tab.core = tab.lib.Core({warnAfter: opts.W || W, expireAfter: opts.E || E, pingUrl: '/session-security/ping'}, {
      now: () => w.t,
      isLeader: () => tab.lead,
      fetch: (u, o) => w.fetch(tab, u, o),
      load: () => w.shared && {...w.shared},
      send(s) {
        tab.sends++
        w.shared = {...s}
        for (const o of w.tabs) if (o !== tab && !o.closed) queueMicrotask(() => o.frozen || o.core.merge({...s}))
      },
      ui: {
        show(d) { if (tab.shown === null) tab.log.push(['show', w.t]); tab.shown = d },
        hide() { if (tab.shown !== null) tab.log.push(['hide', w.t]); tab.shown = null },
        veil(v) { tab.veiled = !!v },
        expire(remote) { tab.dead = {remote: !!remote, t: w.t}; tab.log.push(['expire', w.t]); tab.veiled = true; return tab.covered },
      },
    })
    w.tabs.push(tab)
    return tab
  }
  w.close = tab => { tab.closed = true; for (const [id, tm] of w.timers) if (tm.tab === tab) w.timers.delete(id) }
  return w
}

test('loads in node without a DOM and exports the core', () => {
  const ctx = vm.createContext({module: {exports: {}}, setTimeout, clearTimeout, console})
  vm.runInContext(SRC, ctx)
  assert.deepEqual(Object.keys(ctx.module.exports).sort(), ['Core', 'nextUrl', 'plural'])
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
  assert.equal(p.opts.credentials, 'same-origin')
  assert.equal(p.opts.cache, 'no-store')
  assert.deepEqual({...p.opts.headers}, {Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest'})
  assert.equal(a.shown, T0 + E * 1000, 'counts down to last activity + E as the server sees it')
})

test('a server that saw more recent activity cancels the warning and re-arms', async () => {
  const w = world(), a = w.tab()
  await w.advance(3000)
  w.visit() // another device at T0+3 s
  await w.advance(2000)
  assert.equal(w.pings.length, 1)
  assert.equal(a.shown, null, 'no warning: the server is only 2 s idle')
  assert.equal(a.core.state.lastActivity, T0 + 3000, 'adopted the server activity')
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
  assert.deepEqual(a.dead, {remote: false, t: T0 + E * 1000 + 250})
  assert.ok(a.core.state.signedOutAt >= a.core.state.lastActivity, 'shared state says signed out')
  await w.advance(60_000)
  assert.equal(w.pings.length, 2, 'no pings after expiry')
})

test('unreachable server: warns and expires on the local clock only', async () => {
  const w = world({up: false}), a = w.tab()
  await w.advance(W * 1000)
  assert.equal(w.pings.length, 1)
  assert.equal(a.shown, T0 + E * 1000, 'warns locally when idle >= W')
  assert.equal(a.dead, null, 'not expired: local idle < E')
  await w.advance((E - W) * 1000 + 250)
  assert.equal(w.pings.length, 2)
  assert.ok(a.dead, 'expired: local idle >= E')
})

test('unreachable server while active: no expiry', async () => {
  const w = world({up: false}), a = w.tab()
  for (let i = 0; i < 15; i++) { await w.advance(2000); a.core.noteActivity() }
  assert.ok(w.pings.length >= 2, 'keepalives were attempted')
  assert.equal(a.dead, null)
  assert.equal(a.shown, null)
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

test('expired or anonymous JSON expires; unknown JSON does not', async () => {
  for (const [body, dies] of [[{state: 'anonymous'}, true], [{state: 'expired'}, true], [{hello: 1}, false]]) {
    const w = world(), a = w.tab()
    w.fetch = () => Promise.resolve({status: 200, ok: true, json: () => Promise.resolve(body)})
    await w.advance(W * 1000)
    assert.equal(!!a.dead, dies, JSON.stringify(body))
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
  assert.ok(b.core.state.lastActivity >= w2.t - 1000, 'the wake counted as activity')
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
  assert.equal(b.core.state.lastActivity, w.t)
  for (let i = 0; i < 9; i++) { await w.advance(100); a.core.noteActivity(); b.core.noteActivity() }
  assert.equal(sends(), before + 1, 'nothing more within the second, in either tab')
  await w.advance(100)
  b.core.noteActivity()
  assert.equal(sends(), before + 2)
  await w.advance(0)
  assert.equal(a.core.state.lastActivity, w.t)
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
  assert.equal(a.core.state.serverActivity, w.t)
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
  assert.deepEqual(b.dead, {remote: true, t: w.t})
  await w.advance(60_000)
  assert.equal(w.pings.length, 0)
})

test('covered tab (unsaved input) resumes after sign-in elsewhere, pinging at most every 3 s', async () => {
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
  assert.equal(a.veiled, true, 'still covered: 401')
  await w.advance(60_000)
  assert.equal(w.pings.length, n + 1, 'no ping loop while covered')

  w.server.expired = false // signed in again in another tab, whose page loads:
  w.visit()
  w.tab({lead: false})
  await w.advance(0)
  assert.equal(w.pings.length, n + 2)
  assert.equal(a.veiled, false, 'cover lifted')
  await w.advance(W * 1000)
  assert.ok(a.shown, 'timers resumed')
})

test('per-user timeouts from the ping answer are adopted and shared', async () => {
  const w = world(), a = w.tab(), b = w.tab()
  w.server.W = 20
  w.server.E = 30
  await w.advance(W * 1000)
  assert.equal(w.pings.length, 1)
  assert.equal(a.shown, null, 'idle 5 s < the real W of 20 s')
  assert.equal(b.core.state.warnAfterMs, 20_000)
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

test('state from another tab cannot move activity into the future', async () => {
  const w = world(), a = w.tab()
  a.core.merge({lastActivity: w.t + 3600_000, serverActivity: w.t + 3600_000, lastAnswer: w.t, warnAfterMs: W * 1000, expireAfterMs: E * 1000, signedOutAt: 0})
  assert.equal(a.core.state.lastActivity, w.t)
  assert.equal(a.core.state.serverActivity, w.t)
  await w.advance(W * 1000)
  assert.equal(w.pings.length, 1, 'still checks at W')
})
