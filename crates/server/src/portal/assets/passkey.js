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

  const { b64urlToBuf, bufToB64url, post } = KakehashiWebAuthn;

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
