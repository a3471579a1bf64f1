'use strict'
// The tab layer of static/session-security.js: what a page sees (events on document, the
// warning dialog and its texts), in a fake browser: a fake clock, a fake server, and just
// enough of a DOM for the script (the elements of the crate's dialog by their ids), with
// localStorage, BroadcastChannel and Web Locks shared by the tabs of one browser.
const test = require('node:test')
const assert = require('node:assert/strict')
const vm = require('node:vm')
const fs = require('node:fs')
const path = require('node:path')

const FILE = process.env.SESSION_SECURITY_SCRIPT === 'dist' ? ['dist', 'session-security.min.js'] : ['session-security.js']
const SRC = fs.readFileSync(path.join(__dirname, '..', '..', 'static', ...FILE), 'utf8')
const DRAFTS_FILE = process.env.SESSION_SECURITY_SCRIPT === 'dist' ? ['dist', 'session-security-drafts.min.js'] : ['session-security-drafts.js']
const DRAFTS_SRC = fs.readFileSync(path.join(__dirname, '..', '..', 'static', ...DRAFTS_FILE), 'utf8')
const LAST_TAB_FILE = process.env.SESSION_SECURITY_SCRIPT === 'dist' ? ['dist', 'session-security-last-tab.min.js'] : ['session-security-last-tab.js']
const LAST_TAB_SRC = fs.readFileSync(path.join(__dirname, '..', '..', 'static', ...LAST_TAB_FILE), 'utf8')
const T0 = 1_700_000_000_000
const UNREACHED = 'Your request did not reach the server. Trying again…'
const SIGN_OUT_FAILED = 'Signing out did not work. Try again.'
const EVENTS = ['warn', 'extend', 'expire', 'unreachable', 'reachable', 'signout-failed']
const flush = () => new Promise(r => setImmediate(r))

class El extends EventTarget {
  constructor(doc, tag, props = {}, children = []) {
    super()
    Object.assign(this, {doc, tagName: tag, id: '', className: '', hidden: false, textContent: '', attrs: {}, parentNode: null, children}, props)
    for (const child of children) child.parentNode = this
  }
  get isConnected() { return this.doc.connected.has(this) }
  getAttribute(name) { return name in this.attrs ? this.attrs[name] : null }
  focus() { this.doc.activeElement = this }
  contains(node) {
    for (; node; node = node.parentNode) if (node === this) return true
    return false
  }
  descendants() { return this.children.flatMap(c => [c, ...c.descendants()]) }
  querySelector(selector) { return this.descendants().find(e => selector === '.' + e.className) || null }
  // Tag names only ('input,textarea,option'), in document order.
  querySelectorAll(tags) { return this.descendants().filter(e => tags.split(',').includes(e.tagName)) }
  closest(tag) {
    for (let node = this; node; node = node.parentNode) if (node.tagName === tag) return node
    return null
  }
  get localName() { return this.tagName }
  get childNodes() { return this.children }
  replaceChildren(...nodes) {
    for (const child of this.children.splice(0)) child.parentNode = null
    this.append(...nodes)
  }
  removeAttribute(name) { delete this.dataset[name.slice(5).replace(/-(.)/g, (_, c) => c.toUpperCase())] }
  append(...nodes) { for (const node of nodes) this.insert(node, false) }
  prepend(...nodes) { for (const node of nodes.reverse()) this.insert(node, true) }
  // Moves node (a fragment: its children) here, out of where it was.
  insert(node, first) {
    const moved = node.tagName === '#fragment' ? node.children.splice(0) : [node]
    for (const n of moved) {
      if (n.parentNode) n.parentNode.children.splice(n.parentNode.children.indexOf(n), 1)
      n.parentNode = this
    }
    if (first) this.children.unshift(...moved)
    else this.children.push(...moved)
  }
}

function browser() {
  const b = {t: T0, timers: new Map(), id: 0, store: new Map(), channels: new Set(), lockHeld: false, pings: [], logouts: [], beacons: []}
  b.schedule = (fn, ms, every) => { const id = ++b.id; b.timers.set(id, {at: b.t + Math.max(0, ms || 0), fn, every}); return id }
  b.advance = async ms => {
    const end = b.t + ms
    for (let fired = 0; ; fired++) {
      if (fired > 5000) throw new Error('timer storm')
      await flush()
      let next
      for (const [id, tm] of b.timers) if (tm.at <= end && (!next || tm.at < next[1].at)) next = [id, tm]
      if (!next) break
      const [id, tm] = next
      b.t = Math.max(b.t, tm.at)
      if (tm.every) tm.at = b.t + tm.every
      else b.timers.delete(id)
      tm.fn()
    }
    b.t = end
    await flush()
  }
  // What the server answers: [status, body]; a string body is not JSON.
  b.answer = () => [200, {state: 'active', idle_for: Math.floor((b.t - T0) / 1000), warn_after: 5, expire_after: 600, person: 'p-alice'}]
  // What the app's logout URL answers, as fetch sees it with redirect: 'manual'
  // (a redirect: status 0, type 'opaqueredirect'); status null: a network error.
  b.logoutAnswer = () => ({status: 0, type: 'opaqueredirect'})
  const localStorage = {
    getItem: key => b.store.has(key) ? b.store.get(key) : null,
    setItem: (key, value) => b.store.set(key, String(value)),
  }
  class BroadcastChannel {
    constructor(name) { this.name = name; b.channels.add(this) }
    postMessage(data) {
      for (const other of b.channels) {
        if (other !== this && other.name === this.name) queueMicrotask(() => other.onmessage?.({data: structuredClone(data)}))
      }
    }
  }
  // The first tab to ask holds the leader lock for good.
  const locks = {request(name, fn) { if (!b.lockHeld) { b.lockHeld = true; fn() } return new Promise(() => {}) }}

  // A page in a tab; tab: the sessionStorage of that tab (a reload keeps it), webCrypto: false
  // for a page that is not a secure context. data.draftKey, data.endWithLastTab: the page also
  // loads the drafts module, the last-tab module, each by its own tag, as the snippet does.
  b.page = ({draftKey, endWithLastTab, ...data} = {}, {tab = new Map(), webCrypto = true} = {}) => {
    const doc = new EventTarget()
    const el = (tag, props, children) => new El(doc, tag, props, children)
    const counter = el('span', {id: 'session_security_counter'})
    const message = el('p', {id: 'session_security_message'}, [counter])
    Object.defineProperty(message, 'textContent', {get: () => 'Time left: ' + counter.textContent})
    const unreached = el('p', {id: 'session_security_unreached', hidden: true, textContent: UNREACHED})
    const signOutFailed = el('p', {id: 'session_security_signout_failed', hidden: true, textContent: SIGN_OUT_FAILED})
    const stay = el('button', {id: 'session_security_stay'})
    const signout = el('button', {id: 'session_security_signout'})
    const announcer = el('p', {id: 'session_security_announcer', className: 'session_security_sr'})
    const modal = el('div', {className: 'session_security_modal'}, [message, unreached, signOutFailed, el('div', {}, [stay, signout]), announcer])
    const dialog = el('div', {id: 'session_security_warning', hidden: true,
      attrs: {'data-seconds-one': '{n} second', 'data-seconds-other': '{n} seconds'}}, [el('div', {className: 'session_security_overlay'}), modal])
    const cover = el('div', {id: 'session_security_cover', hidden: true})
    // The page's own content, then the snippet.
    const content = el('main', {textContent: 'Salary of bob: 91k'})
    const body = el('body', {}, [content, dialog, cover])
    const script = el('script', {dataset: {warnAfter: '5', expireAfter: '600', pingUrl: '/session-security/ping', loginUrl: '/login',
      logoutUrl: '/logout', logoutMethod: 'get', person: 'p-alice', lang: 'en', keepUnsavedForms: 'false', confirmFormDiscard: 'false', ...data}})
    const byId = new Map([dialog, ...dialog.descendants(), cover].filter(e => e.id).map(e => [e.id, e]))
    Object.assign(doc, {
      connected: new Set([dialog, ...dialog.descendants(), cover, body]),
      currentScript: script, hidden: false, activeElement: body, body, title: 'Notes · CRM',
      documentElement: {classList: {toggle(name, on) { page.veiled = on }}},
      getElementById: id => byId.get(id) || null,
      querySelectorAll: tags => body.querySelectorAll(tags),
      createElement: tag => el(tag),
      querySelector: () => null,
    })
    // The forms in the page (not those the veil holds out of it).
    Object.defineProperty(doc, 'forms', {get: () => body.querySelectorAll('form')})
    const window = new EventTarget()
    const page = {doc, window, body, content, cover, dialog, unreached, signOutFailed, stay, signout, announcer, script, tab, el,
      events: [], warns: [], went: [], veiled: false, reloaded: false, keyed: []}
    // (The details are objects of the script's realm: copied here, to compare.)
    for (const name of EVENTS) doc.addEventListener('session-security:' + name, e => page.events.push([name, JSON.parse(JSON.stringify(e.detail ?? null))]))
    const ctx = vm.createContext({
      document: doc, window, localStorage, BroadcastChannel, CustomEvent, AbortController, URLSearchParams, TextEncoder, TextDecoder, Event,
      sessionStorage: {getItem: key => tab.has(key) ? tab.get(key) : null, setItem: (key, value) => tab.set(key, String(value)), removeItem: key => page.keyed.push(key) && tab.delete(key)},
      crypto: webCrypto ? globalThis.crypto : {getRandomValues: array => globalThis.crypto.getRandomValues(array)},
      DocumentFragment: class extends El { constructor() { super(doc, '#fragment') } },
      navigator: {locks, sendBeacon: url => b.beacons.push({t: b.t, url}) > 0},
      // (An error as its text: JSON has none of it.)
      console: {warn: (...args) => page.warns.push(JSON.parse(JSON.stringify(args.map(arg => arg?.stack ? String(arg) : arg))))},
      performance: {now: () => b.t - T0},
      Date: {now: () => b.t},
      location: {pathname: '/notes', search: '', replace: url => page.went.push(url), assign: url => page.went.push(url), reload() { page.reloaded = true }},
      setTimeout: (fn, ms) => b.schedule(fn, ms), clearTimeout: id => b.timers.delete(id),
      setInterval: (fn, ms) => b.schedule(fn, ms, ms), clearInterval: id => b.timers.delete(id),
      fetch(url, options) {
        if (url === page.logoutUrl) {
          b.logouts.push({t: b.t, method: options.method, body: options.body === null ? null : String(options.body), redirect: options.redirect})
          return Promise.resolve(b.logoutAnswer()).then(answer => {
            if (answer.status === null) throw new TypeError('Failed to fetch')
            return {type: 'basic', ok: answer.status >= 200 && answer.status < 300, ...answer}
          })
        }
        b.pings.push({t: b.t, url})
        const [status, body] = b.answer()
        if (status === 0) return Promise.reject(new TypeError('Failed to fetch'))
        return Promise.resolve({status, ok: status >= 200 && status < 300,
          json: () => typeof body === 'string' ? Promise.reject(new SyntaxError('not JSON')) : Promise.resolve(body)})
      },
    })
    page.logoutUrl = script.dataset.logoutUrl
    vm.runInContext(SRC, ctx)
    if (draftKey) {
      page.draftsScript = doc.currentScript = el('script', {dataset: {draftKey}})
      vm.runInContext(DRAFTS_SRC, ctx)
    }
    if (endWithLastTab) {
      doc.currentScript = el('script', {dataset: {pingUrl: script.dataset.pingUrl, endWithLastTab}})
      vm.runInContext(LAST_TAB_SRC, ctx)
    }
    page.api = window.sessionSecurity
    page.names = () => page.events.map(([name]) => name)
    return page
  }
  return b
}

test('the page hears of a refused ping: session-security:unreachable with reason, status and the error text, one console warning', async () => {
  const b = browser(), a = b.page()
  b.answer = () => [403, {error: 'cross-site request: Sec-Fetch-Site is not same-origin'}]
  await b.advance(5000)
  assert.equal(b.pings.length, 1)
  assert.deepEqual(a.events.filter(([name]) => name === 'unreachable'), [['unreachable', {reason: 'refused', status: 403, error: 'cross-site request: Sec-Fetch-Site is not same-origin'}]])
  assert.deepEqual(a.warns, [['session-security: ping failed', {reason: 'refused', status: 403, error: 'cross-site request: Sec-Fetch-Site is not same-origin'}]])
  await b.advance(2000)
  assert.equal(b.pings.length, 2)
  assert.deepEqual(a.events.filter(([name]) => name === 'unreachable').length, 2)
  assert.equal(a.warns.length, 1, 'once for the run')
  for (const [status, body, detail] of [[0, null, {reason: 'failed', status: 0}], [502, '<h1>Bad Gateway</h1>', {reason: 'refused', status: 502}], [200, '<html>', {reason: 'failed', status: 200}]]) {
    b.answer = () => [status, body]
    await b.advance(60_000)
    assert.deepEqual(a.events.filter(([name]) => name === 'unreachable').at(-1), ['unreachable', detail], `${status}`)
  }
  assert.equal(a.warns.length, 1)
  assert.equal(a.names().includes('reachable'), false)
})

test('Stay signed in that does not reach the server: the dialog comes back with the unreached text, announced; a retry that gets through closes it', async () => {
  const b = browser(), a = b.page()
  await b.advance(5000)
  assert.equal(a.dialog.hidden, false)
  assert.equal(a.unreached.hidden, true)
  assert.deepEqual(a.events, [['warn', {secondsLeft: 595}]])
  await b.advance(3000)
  b.answer = () => [403, {error: 'cross-site request: Origin does not match Host'}]
  a.stay.dispatchEvent(new Event('click'))
  assert.equal(a.dialog.hidden, true, 'closed at once')
  await b.advance(0)
  assert.equal(a.dialog.hidden, false, 'open again: the server never heard of the press')
  assert.equal(a.unreached.hidden, false, 'saying so')
  assert.equal(a.doc.activeElement, a.stay)
  assert.deepEqual(a.events.slice(1), [['extend', null], ['warn', {secondsLeft: 592}], ['unreachable', {reason: 'refused', status: 403, error: 'cross-site request: Origin does not match Host'}]],
    'counting down to the server\'s deadline, 600 s after the page load')
  assert.notEqual(a.announcer.textContent, UNREACHED, 'not yet: the live region has just appeared')
  await b.advance(500)
  assert.equal(a.announcer.textContent, UNREACHED, 'announced at the next render')

  b.answer = () => [200, {state: 'active', idle_for: 2, warn_after: 5, expire_after: 600, person: 'p-alice'}]
  await b.advance(1500)
  assert.equal(b.pings.length, 3, 'the retry, 2 s after the failure')
  assert.equal(a.dialog.hidden, true, 'closed')
  assert.equal(a.unreached.hidden, true)
  assert.deepEqual(a.events.slice(4), [['extend', null], ['reachable', null]])
})

test('session-security:expire says why: the server\'s reason, in every tab', async () => {
  for (const reason of ['idle', 'absolute', 'invalid']) {
    const b = browser(), a = b.page(), other = b.page()
    b.answer = () => [401, {state: 'expired', reason}]
    await b.advance(5000)
    assert.equal(b.pings.length, 1, 'the leader asked')
    assert.deepEqual(a.events.at(-1), ['expire', {reason}])
    assert.deepEqual(other.events.at(-1), ['expire', {reason}], `${reason}: the other tab, by its message`)
    await b.advance(1000)
    assert.deepEqual([a.went, other.went], [['/login?next=%2Fnotes'], ['/login?next=%2Fnotes']])
  }
  const b = browser(), a = b.page(), other = b.page()
  b.answer = () => [401, {state: 'anonymous'}]
  await b.advance(5000)
  assert.deepEqual([a.events.at(-1), other.events.at(-1)], [['expire', {reason: 'signed-out'}], ['expire', {reason: 'signed-out'}]])
})

test('session-security:expire says why: Sign out now, handleResponse, another person', async () => {
  let b = browser(), a = b.page(), other = b.page()
  await b.advance(1000)
  a.signout.dispatchEvent(new Event('click'))
  await b.advance(0)
  assert.deepEqual(b.logouts, [{t: T0 + 1000, method: 'get', body: null, redirect: 'manual'}])
  assert.deepEqual(a.went, ['/login'])
  assert.deepEqual([a.events, other.events], [[['expire', {reason: 'signed-out'}]], [['expire', {reason: 'signed-out'}]]])

  for (const [body, reason] of [[{error: 'session_expired', reason: 'absolute'}, 'absolute'], [{error: 'session_expired'}, 'invalid'], [{error: 'not_signed_in'}, 'signed-out']]) {
    b = browser(); a = b.page(); other = b.page()
    await b.advance(1000)
    const response = {status: 401, clone: () => ({json: () => Promise.resolve(body)})}
    assert.equal(await a.api.handleResponse(response), true)
    await b.advance(0)
    assert.deepEqual([a.events, other.events], [[['expire', {reason}]], [['expire', {reason}]]], JSON.stringify(body))
  }

  b = browser(); a = b.page(); other = b.page()
  b.answer = () => [200, {state: 'active', idle_for: 0, warn_after: 5, expire_after: 600, person: 'p-bob'}]
  await b.advance(5000)
  assert.deepEqual(a.events, [['expire', {reason: 'other-person'}]])
  assert.deepEqual(a.went, ['/login'], 'no way back to the page')
})

test('Sign out now posts the app\'s CSRF token, and tells the other tabs only once the server took it', async () => {
  const b = browser()
  const data = {logoutMethod: 'post', csrfField: 'csrf_token', csrfToken: 't0k&n=1'}
  const a = b.page(data), other = b.page(data)
  let answer
  b.logoutAnswer = () => new Promise(resolve => { answer = resolve })
  await b.advance(1000)
  a.signout.dispatchEvent(new Event('click'))
  a.signout.dispatchEvent(new Event('click'))
  await b.advance(0)
  assert.deepEqual(b.logouts, [{t: T0 + 1000, method: 'post', body: 'csrf_token=t0k%26n%3D1', redirect: 'manual'}], 'one request for two presses, the token form-encoded')
  assert.deepEqual([a.events, other.events, a.went], [[], [], []], 'nobody told before the server answered')
  answer({status: 0, type: 'opaqueredirect'})
  await b.advance(0)
  assert.deepEqual([a.events, other.events], [[['expire', {reason: 'signed-out'}]], [['expire', {reason: 'signed-out'}]]])
  assert.deepEqual(a.went, ['/login'], 'to the login page, not the redirect\'s target (its flash message stays for the page)')
  await b.advance(1000)
  assert.deepEqual(other.went, ['/login?next=%2Fnotes'])
})

test('A refused or unreachable sign-out is shown in the warning, every tab stays signed in, and it can be pressed again', async () => {
  const b = browser()
  const a = b.page({logoutMethod: 'post'}), other = b.page({logoutMethod: 'post'})
  await b.advance(5000)
  assert.equal(a.dialog.hidden, false)
  b.logoutAnswer = () => ({status: 403})
  a.signout.dispatchEvent(new Event('click'))
  await b.advance(0)
  assert.deepEqual(b.logouts.map(l => l.body), [''], 'no token configured: an empty form')
  assert.deepEqual(a.events.slice(1), [['signout-failed', {status: 403}]])
  assert.equal(a.signOutFailed.hidden, false, 'the warning says so')
  assert.equal(a.announcer.textContent, SIGN_OUT_FAILED, 'and screen readers hear it')
  assert.deepEqual([a.went, other.events.map(([name]) => name)], [[], ['warn']], 'nobody signed out')
  assert.equal(a.dialog.hidden, false, 'the warning stays')

  b.logoutAnswer = () => ({status: null})
  a.signout.dispatchEvent(new Event('click'))
  await b.advance(0)
  assert.equal(b.logouts.length, 2, 'pressed again, asked again')
  assert.deepEqual(a.events.at(-1), ['signout-failed', {status: 0}], 'no HTTP answer: status 0')

  b.logoutAnswer = () => ({status: 200})
  assert.equal(await a.api.signOut(), true, 'a 2xx is taken too')
  await b.advance(0)
  assert.deepEqual([a.events.at(-1), a.went], [['expire', {reason: 'signed-out'}], ['/login']])
})

test('A failed sign-out\'s text goes when the next warning opens', async () => {
  const b = browser(), a = b.page()
  await b.advance(5000)
  b.logoutAnswer = () => ({status: 500})
  assert.equal(await a.api.signOut(), false)
  assert.equal(a.signOutFailed.hidden, false)
  a.stay.dispatchEvent(new Event('click'))
  await b.advance(0)
  assert.equal(a.dialog.hidden, true)
  await b.advance(6000)
  assert.equal(a.dialog.hidden, false, 'the next warning')
  assert.equal(a.signOutFailed.hidden, true)
})

test('end_with_last_tab: every page reports 1 s after it loads and halfway through the grace; a closing tab sends the closing beacon, and the others report again', async () => {
  const b = browser()
  b.answer = () => [200, {state: 'active', idle_for: 0, warn_after: 50, expire_after: 600, person: 'p-alice'}]
  const settings = {warnAfter: '50', endWithLastTab: '10'}
  const a = b.page(settings), other = b.page(settings)
  await b.advance(999)
  assert.equal(b.pings.length, 0)
  await b.advance(4001)
  // Each page's idle time, from each page.
  assert.deepEqual(b.pings.map(p => [p.t - T0, p.url.replace(/\d+$/, 'N')]), [1000, 1000, 5000, 5000].map(t => [t, '/session-security/ping?idle_for=N']))
  assert.deepEqual(b.pings.slice(0, 2).map(p => p.url), ['/session-security/ping?idle_for=1', '/session-security/ping?idle_for=1'])
  assert.deepEqual(b.beacons, [])

  await b.advance(3000)
  a.window.dispatchEvent(new Event('pagehide'))
  assert.deepEqual(b.beacons, [{t: T0 + 8000, url: '/session-security/ping?closing'}], 'sent as the page goes')
  await b.advance(6000)
  assert.deepEqual(b.pings.slice(4).map(p => p.t - T0), [9000, 13000], 'the other tab reports, at 1 s and halfway')
  assert.deepEqual([a.events, other.events], [[], []], 'nobody warned, nobody signed out')
})

test('end_with_last_tab: no closing beacon once the session is over, and none without the setting', async () => {
  const b = browser()
  const a = b.page({endWithLastTab: '10'})
  await b.advance(2000)
  b.answer = () => [401, {state: 'expired', reason: 'idle'}]
  await b.advance(5000)
  assert.deepEqual(a.events.at(-1), ['expire', {reason: 'idle'}])
  a.window.dispatchEvent(new Event('pagehide'))
  assert.deepEqual(b.beacons, [], 'over: nothing to end')

  const off = browser(), page = off.page()
  await off.advance(2000)
  assert.equal(off.pings.length, 0, 'no report after loading')
  page.window.dispatchEvent(new Event('pagehide'))
  assert.deepEqual(off.beacons, [])
})

test('the countdown is in the tab\'s title while the warning shows, and the page\'s title comes back', async () => {
  const b = browser(), a = b.page()
  await b.advance(5000)
  assert.equal(a.doc.title, '595 seconds · Notes · CRM')
  await b.advance(1000)
  assert.equal(a.doc.title, '594 seconds · Notes · CRM', 'it counts down')
  a.stay.dispatchEvent(new Event('click'))
  await b.advance(0)
  assert.equal(a.doc.title, 'Notes · CRM')
  await b.advance(6000)
  assert.match(a.doc.title, /^\d+ seconds · Notes · CRM$/, 'the next warning')
  b.answer = () => [401, {state: 'expired', reason: 'idle'}]
  await b.advance(600_000)
  assert.deepEqual(a.events.at(-1), ['expire', {reason: 'idle'}])
  assert.equal(a.doc.title, 'Notes · CRM', 'and after the expiry')
})

test('veiled, the page\'s content is out of the DOM, not only out of sight, and comes back as it was', async () => {
  const b = browser(), a = b.page()
  const persisted = type => Object.assign(new Event(type), {persisted: true})
  a.window.dispatchEvent(persisted('pagehide'))
  assert.deepEqual([a.body.children, a.veiled], [[a.cover], true], 'into the back/forward cache: only the cover stays')
  assert.equal(a.content.parentNode.tagName, '#fragment', 'held by the script')
  a.window.dispatchEvent(persisted('pageshow'))
  await b.advance(0)
  assert.deepEqual([a.body.children, a.veiled], [[a.content, a.dialog, a.cover], false], 'the server says active: back as it was')

  b.answer = () => [401, {state: 'expired', reason: 'idle'}]
  await b.advance(5000)
  assert.deepEqual([a.body.children, a.cover.hidden, a.went], [[a.cover], true, ['/login?next=%2Fnotes']], 'expired: gone for good')
})

// A form with a textarea, a checkbox, a multiple select, a hidden CSRF field and a file input,
// in the page's content; the same each time the page loads.
function addForm(page) {
  const field = (tag, props) => page.el(tag, {form: null, ...props})
  const fields = {
    notes: field('textarea', {type: 'textarea', value: '', defaultValue: ''}),
    urgent: field('input', {type: 'checkbox', checked: false, defaultChecked: false}),
    options: [0, 1, 2].map(index => field('option', {index, selected: false, defaultSelected: false})),
    csrf: field('input', {type: 'hidden', value: 'token-of-this-load', defaultValue: 'token-of-this-load'}),
    file: field('input', {type: 'file', value: '', defaultValue: ''}),
  }
  const select = page.el('select', {multiple: true, querySelector: () => null}, fields.options)
  const form = page.el('form', {}, [fields.notes, fields.urgent, select, fields.csrf, fields.file])
  Object.defineProperty(form, 'elements', {get: () => form.querySelectorAll('textarea,input,select')})
  Object.defineProperty(select, 'options', {get: () => select.querySelectorAll('option')})
  for (const f of [fields.notes, fields.urgent, ...fields.options, fields.csrf, fields.file]) f.form = form
  page.content.append(form)
  return fields
}

// WebCrypto runs off the thread: waits (in real time, at most 2 s) until done() holds.
async function until(done) {
  for (const end = Date.now() + 2000; !done() && Date.now() < end;) await new Promise(r => setTimeout(r, 1))
}

const WORDS = 'Minutes, not yet saved'
const KEY = Buffer.alloc(32, 7).toString('base64url')
const BOBS_KEY = Buffer.alloc(32, 8).toString('base64url')

// Expires a page of alice with unsaved input in each kind of field; the page, its fields, and
// the browser.
async function coveredPage(settings = {}, options = {}) {
  const b = browser(), a = b.page({keepUnsavedForms: 'true', draftKey: KEY, ...settings}, options)
  // (The key is ready once the page looked for a draft to fill in.)
  if (options.webCrypto !== false) await until(() => a.keyed.length > 0)
  const fields = addForm(a)
  fields.notes.value = WORDS
  fields.urgent.checked = true
  fields.options[2].selected = true
  fields.file.value = 'C:\\fakepath\\minutes.pdf'
  b.answer = () => [401, {state: 'expired', reason: 'idle'}]
  await b.advance(5000)
  await until(() => a.tab.size > 0)
  return {b, a, fields}
}

test('keep_unsaved_forms: the key leaves the DOM as the script starts', async () => {
  const b = browser(), a = b.page({keepUnsavedForms: 'true', draftKey: KEY})
  await b.advance(0)
  assert.equal(a.draftsScript.dataset.draftKey, undefined)
  assert.deepEqual(a.warns, [])
})

test('keep_unsaved_forms: covered, only the cover is in the page, the draft sealed under the person\'s key; the same person back gets it filled in', async () => {
  const {b, a} = await coveredPage()
  assert.deepEqual([a.body.children, a.cover.hidden, a.went], [[a.cover], false, []], 'covered, and staying')
  assert.equal(a.content.parentNode, null, 'the page\'s content is dropped, not held')
  const [[name, stored]] = [...a.tab]
  assert.equal(name, 'session_security draft /notes')
  const bytes = JSON.parse(stored)
  assert.ok(bytes.length > 12 + 16 && bytes.every(n => Number.isInteger(n) && n >= 0 && n < 256), 'iv, ciphertext and tag, as bytes')
  assert.ok(!Buffer.from(bytes).toString('latin1').includes('Minutes'), 'not in clear')
  await b.advance(1000)
  // Signed in again (in a tab not shown here): activity after the sign-out reaches the covered tab.
  b.answer = () => [200, {state: 'active', idle_for: 0, warn_after: 5, expire_after: 600, person: 'p-alice'}]
  b.page({keepUnsavedForms: 'true', draftKey: KEY}).api.activity()
  await b.advance(4000)
  assert.deepEqual([a.reloaded, a.body.children], [true, [a.cover]], 'loaded anew; nothing of the old page came back')
  // The page as the server sends it again, in the same tab.
  const again = b.page({keepUnsavedForms: 'true', draftKey: KEY}, {tab: a.tab})
  const fields = addForm(again)
  await until(() => fields.notes.value !== '')
  assert.deepEqual(
    [fields.notes.value, fields.urgent.checked, fields.options.map(o => o.selected), fields.csrf.value, fields.file.value],
    [WORDS, true, [false, false, true], 'token-of-this-load', ''],
    'filled in; the new CSRF token stays, a file cannot be filled in')
  assert.equal(a.tab.size, 0, 'filled in once')
  assert.deepEqual(again.warns, [])
})

test('keep_unsaved_forms: another person\'s key does not open the draft, which is gone; the covered tab discards it too', async () => {
  const {b, a} = await coveredPage()
  // Bob's page loads in a tab holding alice's sealed draft (a copy: alice's covered tab is
  // another one here, and hears of bob too).
  const bobsTab = new Map(a.tab)
  const bobs = b.page({keepUnsavedForms: 'true', draftKey: BOBS_KEY, person: 'p-bob'}, {tab: bobsTab})
  const fields = addForm(bobs)
  await until(() => bobs.warns.length > 0)
  assert.deepEqual([fields.notes.value, fields.urgent.checked, bobsTab.size], ['', false, 0])
  assert.equal(bobs.warns.length, 1, 'the failed opening is logged')
  await b.advance(0)
  assert.deepEqual([a.tab.size, a.went, a.events.at(-1)], [0, ['/login'], ['expire', {reason: 'other-person'}]], 'alice\'s covered tab leaves, its draft discarded')
})

test('keep_unsaved_forms: a laptop that slept past the deadline veils the page before it asks; the draft held out of the page is still kept and sealed', async () => {
  const b = browser(), a = b.page({keepUnsavedForms: 'true', draftKey: KEY})
  await until(() => a.keyed.length > 0)
  const fields = addForm(a)
  fields.notes.value = WORDS
  a.doc.dispatchEvent(new Event('input')) // (the person typing)
  b.t += 3600_000 // no timer ran
  b.answer = () => [401, {state: 'expired', reason: 'idle'}]
  a.window.dispatchEvent(new Event('focus'))
  assert.deepEqual(a.body.children, [a.cover], 'veiled at once, before the answer')
  await b.advance(0)
  await until(() => a.tab.size > 0)
  assert.deepEqual([a.cover.hidden, a.went, a.tab.size], [false, [], 1], 'covered and staying, the draft sealed')
  // The same person's page, loaded anew in this tab, gets it.
  const again = b.page({keepUnsavedForms: 'true', draftKey: KEY}, {tab: a.tab})
  const refilled = addForm(again)
  await until(() => refilled.notes.value !== '')
  assert.equal(refilled.notes.value, WORDS)
})

test('keep_unsaved_forms: a page that changed meanwhile (other fields) is not filled in; the draft is gone and the console says why', async () => {
  const {b, a} = await coveredPage()
  const again = b.page({keepUnsavedForms: 'true', draftKey: KEY}, {tab: a.tab})
  const fields = addForm(again)
  again.content.append(again.el('input', {type: 'text', value: '', defaultValue: ''}))
  await until(() => again.warns.length > 0)
  assert.deepEqual([fields.notes.value, fields.urgent.checked, a.tab.size], ['', false, 0])
  assert.match(JSON.stringify(again.warns), /the page changed/)
})

test('keep_unsaved_forms without WebCrypto (not a secure context): no draft is kept, the page leaves', async () => {
  const {a} = await coveredPage({}, {webCrypto: false}) // (waits the 2 s for a draft that never comes)
  assert.deepEqual([a.body.children, a.cover.hidden, a.went, a.tab.size], [[a.cover], true, ['/login?next=%2Fnotes'], 0])
  assert.equal(a.content.parentNode, null)
})

test('confirm_form_discard: a covered page asks before it is closed (its draft is sealed, out of the page), a leaving one does not', async () => {
  const b = browser(), settings = {keepUnsavedForms: 'true', confirmFormDiscard: 'true', draftKey: KEY}
  const a = b.page(settings), other = b.page(settings)
  await b.advance(0)
  addForm(a).notes.value = WORDS
  const asks = page => {
    const event = new Event('beforeunload', {cancelable: true})
    page.window.dispatchEvent(event)
    return event.defaultPrevented
  }
  assert.deepEqual([asks(a), asks(other)], [true, false])
  b.answer = () => [401, {state: 'expired', reason: 'idle'}]
  await b.advance(6000)
  assert.deepEqual([a.cover.hidden, a.went, other.went], [false, [], ['/login?next=%2Fnotes']])
  assert.deepEqual([asks(a), asks(other)], [true, false])
})
