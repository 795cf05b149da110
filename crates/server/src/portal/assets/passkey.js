// The login page's "sign in with a passkey" button (docs/MFA.md, "Passkey sign-in"): a
// discoverable WebAuthn assertion (no allowCredentials: the authenticator offers the user's
// passkey), posted back to the server, which starts the portal session. Served from our
// origin: the CSP allows no inline script. Parameters come from the button's data- attributes.
'use strict';

(function () {
  const btn = document.getElementById('passkey-login');
  if (!btn) return;
  const status = document.getElementById('passkey-status');
  if (!window.PublicKeyCredential) {
    btn.hidden = true;
    return;
  }

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

  async function signIn() {
    const d = btn.dataset;
    const base = '/t/' + d.tenant + '/login/passkey/';
    status.hidden = true;
    try {
      const options = await post(base + 'start', d.csrf, {});
      const pk = options.publicKey;
      pk.challenge = b64urlToBuf(pk.challenge);
      (pk.allowCredentials || []).forEach((c) => { c.id = b64urlToBuf(c.id); });
      const cred = await navigator.credentials.get({ publicKey: pk });
      const r = cred.response;
      const answer = {
        id: cred.id,
        rawId: bufToB64url(cred.rawId),
        type: cred.type,
        response: {
          authenticatorData: bufToB64url(r.authenticatorData),
          clientDataJSON: bufToB64url(r.clientDataJSON),
          signature: bufToB64url(r.signature),
          userHandle: r.userHandle ? bufToB64url(r.userHandle) : null,
        },
        clientExtensionResults: cred.getClientExtensionResults(),
      };
      const done = await post(base + 'finish', d.csrf, { credential: answer, return_to: d.returnTo || null });
      window.location.assign(done.next);
    } catch (e) {
      status.textContent = e.code === 'delayed' ? d.delayed : d.failed;
      status.hidden = false;
    }
  }

  btn.addEventListener('click', () => {
    btn.disabled = true;
    signIn().finally(() => { btn.disabled = false; });
  });
})();
