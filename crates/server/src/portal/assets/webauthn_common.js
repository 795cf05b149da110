// Shared by the portal's WebAuthn scripts (served in front of each: `webauthn.js`, the MFA
// pages' ceremonies, and `passkey.js`, the login page's passkey button). The server carries
// binary fields as base64url strings; the browser API wants ArrayBuffers, and the answer
// goes back as base64url again. Served from our origin: the CSP allows no inline script.
'use strict';

const KakehashiWebAuthn = (function () {
  function b64urlToBuf(s) {
    const pad = '='.repeat((4 - (s.length % 4)) % 4);
    const bin = atob((s + pad).replace(/-/g, '+').replace(/_/g, '/'));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function bufToB64url(buf) {
    const bytes = new Uint8Array(buf);
    let bin = '';
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // POSTs JSON with the CSRF token; a refusal throws an Error with the server's message and
  // its `error` code as `code`.
  async function post(url, csrf, body) {
    const resp = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body),
    });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      const e = new Error(data.message || resp.statusText);
      e.code = data.error;
      throw e;
    }
    return data;
  }

  return { b64urlToBuf, bufToB64url, post };
})();
