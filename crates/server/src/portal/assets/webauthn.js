// The portal's WebAuthn ceremonies (W3C Web Authentication Level 2). Served from our origin:
// the CSP allows no inline script. The server's options carry binary fields as base64url
// strings; the browser API wants ArrayBuffers, and the answer goes back as base64url again.
'use strict';

(function () {
  const { b64urlToBuf, bufToB64url, post } = KakehashiWebAuthn;

  function show(el, text, ok) {
    if (!el) return;
    el.textContent = text;
    el.className = 'notice ' + (ok ? 'info' : 'error');
    el.hidden = false;
  }

  async function register(btn) {
    const d = btn.dataset;
    const status = document.getElementById('webauthn-status');
    const nameInput = document.getElementById('credential-name');
    const base = '/t/' + d.tenant + '/mfa/webauthn/register/';
    try {
      const options = await post(base + 'start', d.csrf, { kind: d.kind });
      const pk = options.publicKey;
      pk.challenge = b64urlToBuf(pk.challenge);
      pk.user.id = b64urlToBuf(pk.user.id);
      (pk.excludeCredentials || []).forEach((c) => { c.id = b64urlToBuf(c.id); });
      const cred = await navigator.credentials.create({ publicKey: pk });
      const r = cred.response;
      const answer = {
        id: cred.id,
        rawId: bufToB64url(cred.rawId),
        type: cred.type,
        response: {
          attestationObject: bufToB64url(r.attestationObject),
          clientDataJSON: bufToB64url(r.clientDataJSON),
          transports: typeof r.getTransports === 'function' ? r.getTransports() : undefined,
        },
        clientExtensionResults: cred.getClientExtensionResults(),
      };
      await post(base + 'finish', d.csrf, { name: nameInput ? nameInput.value : '', credential: answer });
      window.location.assign(d.next);
    } catch (e) {
      show(status, d.failed + ' (' + e.message + ')', false);
    }
  }

  async function verify(btn) {
    const d = btn.dataset;
    const status = document.getElementById('webauthn-status');
    const base = '/t/' + d.tenant + '/mfa/webauthn/authenticate/';
    try {
      const options = await post(base + 'start', d.csrf, { class: d.securityClass });
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
      await post(base + 'finish', d.csrf, { credential: answer });
      window.location.assign(d.next);
    } catch (e) {
      show(status, d.failed + ' (' + e.message + ')', false);
    }
  }

  document.querySelectorAll('button[data-webauthn]').forEach((btn) => {
    btn.addEventListener('click', () => {
      btn.disabled = true;
      const done = btn.dataset.webauthn === 'register' ? register(btn) : verify(btn);
      done.finally(() => { btn.disabled = false; });
    });
  });
})();
