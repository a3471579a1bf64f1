'use strict'
// Counter text (plural forms from the dialog's data-seconds-* attributes) and the login URL.
const test = require('node:test')
const assert = require('node:assert/strict')
const vm = require('node:vm')
const fs = require('node:fs')
const path = require('node:path')

const ctx = vm.createContext({module: {exports: {}}, setTimeout, clearTimeout, console})
vm.runInContext(fs.readFileSync(path.join(__dirname, '..', '..', 'static', 'session-security.js'), 'utf8'), ctx)
const {nextUrl} = ctx.module.exports
const plural = (forms, lang, n) => ctx.module.exports.plural(c => forms['seconds' + c[0].toUpperCase() + c.slice(1)], lang, n)

test('English: one and other', () => {
  const forms = {secondsOne: '{n} second', secondsOther: '{n} seconds'}
  assert.equal(plural(forms, 'en', 1), '1 second')
  assert.equal(plural(forms, 'en', 0), '0 seconds')
  assert.equal(plural(forms, 'en', 59), '59 seconds')
})

test('French: 0 and 1 are "one"', () => {
  const forms = {secondsOne: '{n} seconde', secondsOther: '{n} secondes', secondsMany: '{n} de secondes'}
  assert.equal(plural(forms, 'fr', 0), '0 seconde')
  assert.equal(plural(forms, 'fr', 1), '1 seconde')
  assert.equal(plural(forms, 'fr', 2), '2 secondes')
})

test('Arabic: zero, one, two, few, many, other', () => {
  const forms = {secondsZero: 'z{n}', secondsOne: 'o{n}', secondsTwo: 't{n}', secondsFew: 'f{n}', secondsMany: 'm{n}', secondsOther: 'x{n}'}
  assert.deepEqual([0, 1, 2, 3, 11, 100].map(n => plural(forms, 'ar', n)), ['z0', 'o1', 't2', 'f3', 'm11', 'x100'])
})

test('Polish: few and many', () => {
  const forms = {secondsOne: '{n} sekunda', secondsFew: '{n} sekundy', secondsMany: '{n} sekund', secondsOther: '{n} sekundy'}
  assert.deepEqual([1, 2, 5, 22, 25].map(n => plural(forms, 'pl', n)), ['1 sekunda', '2 sekundy', '5 sekund', '22 sekundy', '25 sekund'])
})

test('missing category falls back to other; bad language to other; no forms to the number', () => {
  assert.equal(plural({secondsOther: '{n} s'}, 'en', 1), '1 s')
  assert.equal(plural({secondsOne: '{n} second', secondsOther: '{n} seconds'}, 'not a language!', 1), '1 seconds')
  assert.equal(plural({}, 'en', 7), '7')
})

test('next URL: path and query encoded, appended to a login URL with or without a query', () => {
  const loc = {pathname: '/notes/a b/é', search: '?x=1&y=%2F'}
  assert.equal(nextUrl('/login', loc), '/login?next=%2Fnotes%2Fa%20b%2F%C3%A9%3Fx%3D1%26y%3D%252F')
  assert.equal(nextUrl('/login?lang=fr', loc), '/login?lang=fr&next=%2Fnotes%2Fa%20b%2F%C3%A9%3Fx%3D1%26y%3D%252F')
  assert.equal(nextUrl('/login', {pathname: '/', search: ''}), '/login?next=%2F')
})
