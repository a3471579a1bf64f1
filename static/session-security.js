(() => {
const {max, min, floor} = Math

// Timing core, no DOM. st, shared by tabs (ms): l last activity, s server-confirmed activity,
// a its last answer, w/e warn/expire after, d signed out
function Core(cfg, env) {
  const now = env.now, ui = env.ui, n0 = now()
  const st = {l: n0, s: n0, a: n0, w: cfg.W * 1e3, e: cfg.E * 1e3, d: 0}
  let tm, pend = 0, down = 0, veiled = 0, tried = 0 // down: 1 leaving, 2 covered
  const warned = () => st.a >= st.l + st.w
  const idle = () => floor((now() - st.l) / 1e3)
  const lag = () => env.lead() ? 0 : 4e3 // followers wait for the leader
  const send = () => env.send({...st})
  // next check: expiry (never early), keepalive or warning
  const due = () => max(warned() ? st.s + st.e + 250 : (st.l > st.s + 1e3 ? st.s : st.l) + st.w, st.a + 2e3)
  const take = m => { // newest wins, none from the future
    const n = now()
    if (m?.a > st.a && m.e > m.w) st.w = m.w, st.e = m.e
    if (m) for (const k of 'lsad') st[k] = max(st[k], min(+m[k] || 0, n))
  }
  const arm = () => {
    clearTimeout(tm)
    if (!down && !pend) tm = setTimeout(check, min(max(due() - now(), 0) + lag(), 2e9))
  }
  const update = remote => {
    if (down) return remote && st.l > st.d && revive()
    if (st.d >= st.l) return die(1)
    arm()
    warned() ? ui.show(st.s + st.e) : ui.hide()
  }
  function check() {
    take(env.load())
    update()
    if (!down && !pend && now() >= due() + lag()) ping(idle())
  }
  const ping = i => {
    clearTimeout(tm)
    pend++
    return env.fetch(cfg.ping + '?idle_for=' + i, {method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: {Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest'}})
      .then(r => r.status == 401 ? {state: 'expired'} : r.ok && r.json()).catch(() => 0).then(settle)
  }
  const settle = j => {
    pend--
    take(env.load())
    const n = now(), ok = j?.state == 'active' && j.idle_for >= 0
    if (ok && down > 1) down = 0, st.l = n
    if (down) return
    if (/^(expired|anonymous)$/.test(j?.state) || !ok && n - st.l >= st.e) return die()
    veiled = 0
    ui.veil(0)
    if (ok && j.expire_after > j.warn_after) st.w = j.warn_after * 1e3, st.e = j.expire_after * 1e3
    const s = ok ? n - j.idle_for * 1e3 : st.l // unreachable: local clock
    st.s = max(st.s, s)
    if (s > st.l + 1e3) st.l = s
    st.a = n
    send()
    update()
  }
  const die = (remote, quiet) => {
    if (down) return
    down = 1
    clearTimeout(tm)
    if (!remote) st.d = now(), send()
    if (!quiet && ui.die(remote)) down = 2
  }
  const revive = () => { const n = now(); if (down > 1 && n - tried >= 3e3) tried = n, ping(idle()) }
  const extend = () => {
    if (!down && !veiled) st.l = now(), send(), update()
    return ping(0).then(() => !down)
  }
  const act = () => { if (!down && !veiled && now() - st.l >= 1e3) warned() ? extend() : (st.l = now(), send(), update()) }
  send()
  update()
  return {st, act, extend, arm, out: () => die(0, 1), merge: m => { take(m); update(1) },
    wake() { // deadlines first, then activity
      if (veiled) return
      take(env.load())
      if (down) return revive()
      if (now() - st.l < st.e) return update(), act()
      veiled = 1
      ui.veil(1)
      return ping(idle()).then(act)
    }}
}

function plural(form, lang, n) {
  let c = 'other'
  try { c = new Intl.PluralRules(lang).select(n) } catch {}
  return (form(c) || form('other') || '{n}').replace('{n}', n)
}
const nextUrl = (login, loc) => login + (/\?/.test(login) ? '&' : '?') + 'next=' + encodeURIComponent(loc.pathname + loc.search)

if (typeof module == 'object' && module.exports) module.exports = {Core, plural, nextUrl}

const doc = globalThis.document, c = doc && (doc.currentScript || doc.querySelector('script[data-session-security]'))?.dataset
if (!(c?.expireAfter - c?.warnAfter > 0)) return
const K = 'session_security.', $ = id => doc.getElementById('session_security_' + id)
const dlg = $('warning') || doc.createElement('i'), sr = dlg.appendChild(doc.createElement('p')), stay = $('stay'), cover = $('cover'), ctr = $('counter'), all = x => [...x]
const get = k => { try { return JSON.parse(localStorage[K + k]) } catch {} }
const put = (k, v) => { try { localStorage[K + k] = JSON.stringify(v) } catch {} }
const emit = (n, detail) => doc.dispatchEvent(new CustomEvent('session-security:' + n, {detail}))
const warn = m => console.warn('session-security: ' + m)
const on = (t, f, o) => t.split(' ').forEach(n => (o ? doc : window).addEventListener(n, f, o))
let off = 0, lead = 0, shown, prev, tick, dl, said, leaving, bc, core
const now = () => { const p = performance.now(); off = max(off, Date.now() - p); return p + off } // counts sleep, not clocks set back
const left = () => max(0, Math.ceil((dl - now()) / 1e3))

const sent = new WeakSet()
const changed = e => /^(checkbox|radio)$/.test(e.type) ? e.checked != e.defaultChecked
  : e.options ? all(e.options).some(o => o.selected != o.defaultSelected && (o.index || e.multiple || e.querySelector('[selected]')))
  : !/^(hidden|output)$/.test(e.type) && 'defaultValue' in e && e.value != e.defaultValue
const unsaved = () => all(doc.forms).some(f => !sent.has(f) && all(f.elements).some(changed))

const render = () => {
  const s = left()
  if (ctr) {
    ctr.textContent = plural(p => dlg.getAttribute('data-seconds-' + p), c.lang, s)
    if (s != said && s && (s % 60 == 0 || s == 30 || s == 10)) sr.textContent = ctr.parentNode.textContent
  }
  said = s
}
const ui = {
  show(d) {
    dl = d
    if (shown) return
    shown = 1
    prev = doc.activeElement
    dlg.hidden = false
    stay?.focus()
    render(said = left())
    tick = setInterval(render, 500)
    emit('warn', {secondsLeft: said})
  },
  hide(quiet) {
    if (!shown) return
    const f = dlg.contains(doc.activeElement)
    shown = 0
    clearInterval(tick)
    dlg.hidden = true
    f && prev?.focus?.()
    quiet || emit('extend')
  },
  veil(v) {
    doc.documentElement.classList.toggle('session_security_expired', v)
    if (cover && !v) cover.hidden = true
  },
  die(remote) {
    ui.hide(1)
    ui.veil(1)
    emit('expire')
    if (c.keepUnsavedForms == 'true' && unsaved()) return cover ? !(cover.hidden = false) : !warn('no cover')
    leaving = 1
    setTimeout(() => location.replace(nextUrl(c.loginUrl, location)), remote ? 1e3 : 0) // let a sign-out land
  }}
for (const k in ui) { const f = ui[k]; ui[k] = a => { try { return f(a) } catch (e) { warn(e) } } }

const signOut = () => {
  leaving = 1
  core.out()
  if (/^post$/i.test(c.logoutMethod)) Object.assign(doc.body.appendChild(doc.createElement('form')), {method: 'post', action: c.logoutUrl}).submit()
  else location.assign(c.logoutUrl)
}

sr.className = 'session_security_sr'
sr.setAttribute('aria-live', 'polite')
if (dlg.isConnected) for (const i of ['stay', 'signout', 'counter']) $(i) || warn('no #session_security_' + i)
try { bc = new BroadcastChannel('session-security') } catch {}
core = Core({W: +c.warnAfter, E: +c.expireAfter, ping: c.pingUrl}, {now, ui, lead: () => lead,
  fetch: (u, o) => fetch(u, {...o, signal: AbortSignal.timeout?.(15e3)}),
  load: () => get('state'),
  send(s) { put('state', s); bc?.postMessage(s) }})
if (bc) bc.onmessage = e => core.merge(e.data)
else on('storage', e => e.key == K + 'state' && core.merge(get('state')))

// leader: a Web Lock, else a lease
const me = Math.random(), setLead = v => lead != v && (lead = v, core.arm())
const beat = () => {
  const n = Date.now(), v = get('leader')
  if (!v || v.i == me || v.t < n - 5e3) put('leader', {i: me, t: n})
  setLead(get('leader')?.i == me)
  setTimeout(beat, 2e3)
}
navigator.locks ? navigator.locks.request(K + 'leader', () => new Promise(() => setLead(true))).catch(beat) : beat()

on('pointermove mousemove pointerdown keydown wheel scroll touchstart input', e => // using the dialog is not activity
  shown && e.target.closest?.('.session_security_modal') && !/^([^ ]|Esc.*)$/.test(e.key) || core.act(), {capture: true, passive: true})
const wake = () => doc.hidden || core.wake()
on('focus pageshow', wake)
on('visibilitychange', wake, {})
on('keydown', e => {
  const f = shown && e.key == 'Tab' ? all(dlg.querySelectorAll('button')) : [], x = doc.activeElement
  if (e.shiftKey) f.reverse()
  if (f[0] && (!dlg.contains(x) || x == f[f.length - 1])) e.preventDefault(), f[0].focus()
}, {})
on('submit', e => sent.add(e.target), {capture: true})
if (c.confirmFormDiscard == 'true') on('beforeunload', e => { if (!leaving && unsaved()) e.preventDefault(), e.returnValue = '' })
stay?.addEventListener('click', core.extend)
$('signout')?.addEventListener('click', signOut)
window.sessionSecurity = {activity: core.act, extend: core.extend, signOut}
})()
