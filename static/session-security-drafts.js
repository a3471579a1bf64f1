// session-security-drafts.js: with keep_unsaved_forms, the unsaved input of a page whose session
// ended is sealed (AES-GCM, WebCrypto) under a key that only this person's active session gets,
// and filled in when the same person has the page again. Loaded right after session-security.js
// by its own tag, only in pages that have a key:
//
//   <script src=".../session-security-drafts.<hash>.js" defer data-draft-key="<base64url>">
//
// - The key (32 bytes, a JWK's `k`) leaves the DOM at once and is imported non-extractable;
//   at the end of the session (`session-security:expire`) it is dropped, with the plain draft:
//   the debugger at a walked-away screen finds neither, only the sealed bytes.
// - The draft: the fields that differ from their defaults, by place (inputs, textareas and
//   options, in document order; never hidden, file or password inputs), kept in this tab's
//   sessionStorage as the bytes of the 12-byte IV and the ciphertext.
// - A page that loads with the person's key fills the draft in once; another person's key
//   does not open it (AES-GCM checks), and it is gone. So is it when someone else signs in
//   while the page is covered (reason 'other-person').
// - Without WebCrypto (a page that is not a secure context: plain HTTP) nothing is kept; the
//   main script then does not keep the tab either.
;(() => {
  'use strict'

  const doc = document
  const script = doc.currentScript
  const encodedKey = script?.dataset.draftKey
  script?.removeAttribute('data-draft-key')
  if (!encodedKey || !crypto.subtle) {
    return
  }
  // Per tab and page (sessionStorage survives the reload that brings the page back).
  const NAME = 'session_security draft ' + location.pathname + location.search
  const DEFAULT = {selected: 'defaultSelected', checked: 'defaultChecked', value: 'defaultValue'}
  let key = null
  let ended = false
  // The last draft seen in the page: while the veil holds the page's content out of the
  // document (a laptop that slept past the deadline), its fields cannot be read at the end.
  let draft = null

  function warn(error) {
    console.warn('session-security:', error)
  }
  function fields() {
    return [...doc.querySelectorAll('input,textarea,option')].filter(field => !/^(hidden|file|password)$/.test(field.type))
  }
  // What a field holds: an option whether it is selected, a checkbox or radio whether it is
  // checked, anything else its value.
  function property(field) {
    return field.localName === 'option' ? 'selected' : /^(checkbox|radio)$/.test(field.type) ? 'checked' : 'value'
  }
  // [number of fields, [[place, what the field holds], ...]], from the page, if it is there.
  function readDraft() {
    const all = fields()
    if (all.length) {
      draft = [all.length, all.flatMap((field, place) => {
        const name = property(field)
        return field[name] !== field[DEFAULT[name]] ? [[place, field[name]]] : []
      })]
    }
  }

  function seal(sealingKey, plain) {
    const iv = crypto.getRandomValues(new Uint8Array(12))
    crypto.subtle.encrypt({name: 'AES-GCM', iv}, sealingKey, new TextEncoder().encode(JSON.stringify(plain)))
      .then(sealed => sessionStorage.setItem(NAME, JSON.stringify([...iv, ...new Uint8Array(sealed)])))
      .catch(warn)
  }

  // Once per load: a draft sealed in this tab for this page. Filled in only where the page has
  // the same fields (their number, and each value's kind); input events tell the app's code.
  async function refill() {
    const stored = sessionStorage.getItem(NAME)
    sessionStorage.removeItem(NAME)
    if (!stored) {
      return
    }
    const sealed = Uint8Array.from(JSON.parse(stored))
    const opened = await crypto.subtle.decrypt({name: 'AES-GCM', iv: sealed.subarray(0, 12)}, key, sealed.subarray(12))
    const [count, entries] = JSON.parse(new TextDecoder().decode(opened))
    const all = fields()
    if (all.length !== count) {
      throw new Error('the page changed: its kept draft is not filled in')
    }
    for (const [place, value] of entries) {
      const field = all[place]
      const name = property(field)
      if (typeof field[name] === typeof value) {
        field[name] = value
        field.dispatchEvent(new Event('input', {bubbles: true}))
      }
    }
  }

  crypto.subtle.importKey('jwk', {kty: 'oct', k: encodedKey}, 'AES-GCM', false, ['encrypt', 'decrypt'])
    .then(imported => {
      if (!ended) {
        key = imported
        return refill()
      }
    })
    .catch(warn)

  doc.addEventListener('input', readDraft, true)
  doc.addEventListener('change', readDraft, true)
  // (The event comes while the page is still in the document.)
  doc.addEventListener('session-security:expire', event => {
    readDraft()
    if (event.detail.reason === 'other-person') {
      sessionStorage.removeItem(NAME)
    } else if (key && draft?.[1].length) {
      seal(key, draft)
    }
    ended = true
    key = draft = null
  })
})()
