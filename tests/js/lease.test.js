'use strict'
// The leader lease (for browsers without Web Locks) and which events count as activity.
const test = require('node:test')
const assert = require('node:assert/strict')
const vm = require('node:vm')
const fs = require('node:fs')
const path = require('node:path')

const FILE = process.env.SESSION_SECURITY_SCRIPT === 'dist' ? ['dist', 'session-security.min.js'] : ['session-security.js']
const ctx = vm.createContext({module: {exports: {}}, setTimeout, clearTimeout, console})
vm.runInContext(fs.readFileSync(path.join(__dirname, '..', '..', 'static', ...FILE), 'utf8'), ctx)
const {Lease} = ctx.module.exports
// The page's context by name, as the script passes it: dialogOpen, insideDialog, recentInput.
const isPersonsActivity = (event, context) =>
  ctx.module.exports.isPersonsActivity(event, context.dialogOpen, context.insideDialog, context.recentInput)

// localStorage shared by tabs; a write reaches the other tabs `delay` ms later (different
// processes), the writer at once.
function storage(delay) {
  const s = {t: 0, writes: []}
  s.view = id => {
    let value = null
    for (const w of s.writes) if (w.by === id || w.at + delay <= s.t) value = w.value
    return value
  }
  s.store = id => ({read: () => s.view(id), write: value => s.writes.push({by: id, at: s.t, value})})
  return s
}

// Tabs stepping their leases on their own schedule; returns the largest number of leaders
// seen at once and the time with more than one.
function run(s, tabs, until) {
  let most = 0, doubled = 0
  for (; s.t <= until; s.t += 10) {
    for (const tab of tabs) {
      if (!tab.frozen && s.t >= tab.next) {
        tab.lease.step()
        tab.next = s.t + 2000
      }
    }
    const leaders = tabs.filter(tab => !tab.frozen && tab.lease.isLeader()).length
    most = Math.max(most, leaders)
    if (leaders > 1) doubled += 10
  }
  return {most, doubled}
}

function tab(s, id, startAt = 0) {
  return {id, next: startAt, frozen: false, lease: Lease(s.store(id), id, () => s.t)}
}

test('tabs claiming at once: one leader, never two (writes reach the others within the confirmation)', () => {
  for (const delay of [0, 50, 400]) {
    const s = storage(delay)
    const tabs = [tab(s, 'a'), tab(s, 'b'), tab(s, 'c')]
    const {most} = run(s, tabs, 20_000)
    assert.equal(most, 1, `delay ${delay} ms`)
    assert.equal(tabs.filter(t => t.lease.isLeader()).length, 1, `delay ${delay} ms: one leader at the end`)
  }
})

test('the leader closes or freezes: another tab takes over after the TTL, and the old one stops when it wakes', () => {
  const s = storage(20)
  const tabs = [tab(s, 'a'), tab(s, 'b', 700)]
  run(s, tabs, 3000)
  const first = tabs.find(t => t.lease.isLeader())
  const other = tabs.find(t => t !== first)
  first.frozen = true
  const {most} = run(s, tabs, 12_000)
  assert.equal(most, 1)
  assert.equal(other.lease.isLeader(), true, 'took over')
  first.frozen = false
  assert.equal(first.lease.isLeader(), false, 'woken, it reads the store at once: not the leader')
  const after = run(s, tabs, 20_000)
  assert.equal(after.most, 1)
})

test('a lease with a missing, junk or future `at` is taken over', () => {
  for (const junk of [{holder: 'x'}, {holder: 'x', at: 'soon'}, {holder: 'x', at: 10_000_000}, 'junk', 42]) {
    const s = storage(0)
    s.writes.push({by: 'x', at: 0, value: junk})
    s.t = 1000
    const tabs = [tab(s, 'a', 1000)]
    run(s, tabs, 3000)
    assert.equal(tabs[0].lease.isLeader(), true, JSON.stringify(junk))
  }
  // A fresh lease of another tab is respected.
  const s = storage(0)
  const tabs = [tab(s, 'a', 100)]
  s.writes.push({by: 'x', at: 0, value: {holder: 'x', at: 0}})
  run(s, tabs, 4000)
  assert.equal(tabs[0].lease.isLeader(), false, 'x holds it until 5 s')
  run(s, tabs, 8000)
  assert.equal(tabs[0].lease.isLeader(), true, 'then it is free')
})

const trusted = (type, extra = {}) => ({isTrusted: true, type, ...extra})
const closed = {dialogOpen: false, insideDialog: false, recentInput: false}
const open = {dialogOpen: true, insideDialog: false, recentInput: false}
const inDialog = {dialogOpen: true, insideDialog: true, recentInput: false}

test('only trusted events are activity', () => {
  for (const type of ['pointermove', 'pointerdown', 'keydown', 'wheel', 'touchstart', 'input']) {
    assert.equal(isPersonsActivity(trusted(type), closed), true, type)
    assert.equal(isPersonsActivity({isTrusted: false, type}, closed), false, `${type}, dispatched by a script`)
  }
})

test('scrolling counts only right after a trusted wheel, touch or key', () => {
  assert.equal(isPersonsActivity(trusted('scroll'), closed), false, 'a script scrolled')
  assert.equal(isPersonsActivity(trusted('scroll'), {...closed, recentInput: true}), true)
})

test('with the warning open only a deliberate act dismisses it', () => {
  for (const type of ['pointermove', 'wheel', 'touchstart', 'input', 'scroll']) {
    assert.equal(isPersonsActivity(trusted(type), {...open, recentInput: true}), false, type)
  }
  for (const key of ['Tab', 'Shift', 'Control', 'Alt', 'Meta']) {
    assert.equal(isPersonsActivity(trusted('keydown', {key}), inDialog), false, `${key}: moving between the buttons`)
  }
  assert.equal(isPersonsActivity(trusted('keydown', {key: 'Unidentified', code: 'Tab', shiftKey: true}), inDialog), false, 'Shift+Tab in WebKitGTK')
  for (const key of ['Enter', ' ']) {
    assert.equal(isPersonsActivity(trusted('keydown', {key}), inDialog), false, `${JSON.stringify(key)} presses the focused button`)
    assert.equal(isPersonsActivity(trusted('keydown', {key}), open), true, `${JSON.stringify(key)} outside the dialog`)
  }
  for (const key of ['Escape', 'a', 'ArrowDown']) {
    assert.equal(isPersonsActivity(trusted('keydown', {key}), inDialog), true, key)
  }
  assert.equal(isPersonsActivity(trusted('pointerdown'), inDialog), false, 'a press on the dialog (its buttons act on click)')
  assert.equal(isPersonsActivity(trusted('pointerdown'), open), true, 'a press outside the dialog')
  assert.equal(isPersonsActivity({isTrusted: false, type: 'keydown', key: 'a'}, open), false)
})
