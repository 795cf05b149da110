//! The SAML 2.0 IdP through the real `kakehashi serve` over plain HTTP, on SQLite and
//! PostgreSQL: metadata, SP-initiated SSO on both bindings, and every refusal with the
//! section of the SAML 2.0 specifications (Core, Bindings, Profiles, Metadata) it comes from.
//! Requests are built and signed here as an SP would (keys generated at test time).

#![allow(unused_imports)] // portal_support re-exports what other test binaries use

mod common;
mod portal_support;
mod saml_support;

use common::Env;
use portal_support::*;
use saml_support::*;

const OPEN_SP: &str = "https://open.example.jp/sp";
const OPEN_ACS: &str = "https://open.example.jp/acs";
const SIGNED_SP: &str = "https://signed.example.jp/sp";
const SIGNED_ACS: &str = "https://signed.example.jp/acs";

/// An SP that signs nothing (staff audience), and one whose metadata says
/// AuthnRequestsSigned="true" (SAML Metadata 2.4.4) with its certificate.
fn two_sps(env: &Env) -> kakehashi_saml::SigningKey {
    register(
        env,
        "校務テスト(署名なし)",
        &sp_metadata(OPEN_SP, OPEN_ACS, None, false),
        &[
            "--security-class",
            "learning",
            "--audience",
            "staff",
            "--saml-attributes",
            "uid,displayName",
        ],
    );
    let key = sp_key("signed SP");
    register(
        env,
        "校務テスト(署名あり)",
        &sp_metadata(SIGNED_SP, SIGNED_ACS, Some(key.certificate()), true),
        &["--security-class", "learning", "--audience", "all"],
    );
    key
}

#[track_caller]
fn refused_page(r: &Resp, what: &str) {
    assert_eq!(r.status, 400, "{what}: {}", r.body);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{what}"
    );
    assert!(
        saml_response(r).is_none() && !r.body.contains("<form"),
        "{what}: nothing may be posted to an untrusted ACS: {}",
        r.body
    );
}

#[tokio::test]
async fn metadata_publishes_one_signing_certificate_that_every_node_shares() {
    for env in Env::both().await {
        let label = env.label();
        let a = start(&env, &["--demo"]);
        let b = start(&env, &[]);
        let r = request(&a.addr, "GET", "/t/demo/saml/metadata", "", None);
        assert_eq!(r.status, 200, "{label}");
        assert_eq!(
            r.header("content-type"),
            Some("application/samlmetadata+xml")
        );
        // SAML Metadata 2.4.3: SSO on both bindings; 2.4.1.1: the signing key.
        let sso = format!("{}/t/demo/saml/sso", a.url);
        for binding in ["HTTP-Redirect", "HTTP-POST"] {
            assert!(
                r.body.contains(&format!(
                    "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:{binding}\" Location=\"{sso}\""
                )),
                "{label} {binding}: {}",
                r.body
            );
        }
        assert!(r
            .body
            .contains(&format!("entityID=\"{}/t/demo/saml/metadata\"", a.url)));
        // Metadata 2.4.1: only the NameID formats we issue.
        assert!(r
            .body
            .contains("nameid-format:persistent</md:NameIDFormat>"));
        assert!(!r.body.contains("emailAddress"), "{}", r.body);
        let cert = |body: &str| {
            body.split("<ds:X509Certificate>")
                .nth(1)
                .and_then(|s| s.split('<').next())
                .expect("a signing certificate")
                .to_owned()
        };
        let other = request(&b.addr, "GET", "/t/demo/saml/metadata", "", None);
        assert_eq!(
            cert(&r.body),
            cert(&other.body),
            "{label}: the key lives in the database, not in a node"
        );
        assert_eq!(
            request(&a.addr, "GET", "/t/nope/saml/metadata", "", None).status,
            404
        );
    }
}

#[tokio::test]
async fn sp_initiated_redirect_logs_in_answers_at_the_acs_and_refuses_a_replayed_request() {
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        two_sps(&env);
        let mut b = Browser::new(&node, "demo");
        let id = new_id();
        let xml = authn_request(&node.url, &id, OPEN_SP, OPEN_ACS, "", "");
        let path = redirect_path(&xml, Some("back-to-menu"), None);
        let sso = b.get(&path);
        let done = login_and_resume(&mut b, &sso, TEACHER, TEACHER_PASSWORD);
        assert_eq!(done.status, 200, "{label}: {}", done.body);
        // Bindings 3.5.4: a form POSTed to the ACS, RelayState returned unchanged.
        assert!(done.body.contains(&format!("action=\"{OPEN_ACS}\"")));
        assert_eq!(done.hidden("RelayState").as_deref(), Some("back-to-menu"));
        let csp = done.header("content-security-policy").unwrap_or_default();
        let nonce = done
            .body
            .split("<script nonce=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a nonce'd script");
        assert!(
            csp.contains(&format!("script-src 'nonce-{nonce}'"))
                && csp.contains("form-action https://open.example.jp"),
            "{csp}"
        );
        assert!(
            done.body.contains("<button type=\"submit\">"),
            "a button without script"
        );
        let resp = saml_response(&done).expect("a Response");
        assert_eq!(status_codes(&resp), ["Success"], "{resp}");
        // Core 3.2.2 / Profiles 4.1.4.2: InResponseTo, Destination, Audience, bearer.
        assert!(resp.contains(&format!("InResponseTo=\"{id}\"")));
        assert!(resp.contains(&format!("Destination=\"{OPEN_ACS}\"")));
        assert!(resp.contains(&format!("<saml:Audience>{OPEN_SP}</saml:Audience>")));
        assert!(resp.contains("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"));
        assert!(resp.contains(
            "<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>"
        ));
        assert!(resp.contains("minami.t01"), "uid released: {resp}");

        // Core 1.3.4 (IDs are unique) and Profiles 4.1.4.1: the same request again is a replay.
        let again = b.get(&path);
        refused_page(&again, "replayed AuthnRequest ID");
        assert!(again.body.contains("すでに使われています"));

        // With the session, a new request is answered at once (no login page).
        let xml = authn_request(&node.url, &new_id(), OPEN_SP, OPEN_ACS, "", "");
        let direct = b.get(&redirect_path(&xml, None, None));
        assert_eq!(direct.status, 200, "{label}: {}", direct.body);
        let second = saml_response(&direct).expect("a Response");
        let name_id = |x: &str| {
            x.split("nameid-format:persistent\"")
                .nth(1)
                .and_then(|s| s.split('>').nth(1))
                .and_then(|s| s.split('<').next())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(!name_id(&resp).is_empty());
        assert_eq!(
            name_id(&resp),
            name_id(&second),
            "persistent NameID is stable"
        );

        // The portal's logout forgets the SP sessions it started.
        assert_eq!(sp_session_rows(&env).await, 2, "{label}");
        let home = b.get("/t/demo/");
        let csrf = home.hidden("csrf").expect("the logout form's csrf");
        assert_eq!(b.post("/t/demo/logout", &[("csrf", &csrf)]).status, 303);
        assert_eq!(sp_session_rows(&env).await, 0, "{label}");

        let actions = audit_actions(&env).await;
        let count = |a: &str| actions.iter().filter(|(x, _)| x == a).count();
        assert_eq!(count("saml.sso"), 2, "{label}: {actions:?}");
        assert!(count("saml.request.refused") >= 1);
    }
}

#[tokio::test]
async fn unknown_acs_url_or_issuer_gets_an_error_page_and_nothing_is_posted() {
    for env in Env::both().await {
        let node = start(&env, &["--demo"]);
        two_sps(&env);
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        // Profiles 4.1.4.1: the ACS must be one the SP's metadata registers.
        let xml = authn_request(
            &node.url,
            &new_id(),
            OPEN_SP,
            "https://evil.example/steal",
            "",
            "",
        );
        let r = b.get(&redirect_path(&xml, None, None));
        refused_page(&r, "unknown ACS");
        assert!(!r.body.contains("evil.example/steal\" "), "{}", r.body);
        let r = b.post(
            "/t/demo/saml/sso",
            &[(
                "SAMLRequest",
                &post_field(
                    &authn_request(
                        &node.url,
                        &new_id(),
                        OPEN_SP,
                        "https://evil.example/steal",
                        "",
                        "",
                    ),
                    "",
                    None,
                ),
            )],
        );
        refused_page(&r, "unknown ACS (POST)");
        // An Issuer no one registered.
        let xml = authn_request(
            &node.url,
            &new_id(),
            "https://stranger.example/sp",
            OPEN_ACS,
            "",
            "",
        );
        refused_page(&b.get(&redirect_path(&xml, None, None)), "unknown SP");
        // Core 3.2.1: a Destination that is not this endpoint.
        let xml = authn_request(&node.url, &new_id(), OPEN_SP, OPEN_ACS, "", "")
            .replace("/t/demo/saml/sso", "/t/other/saml/sso");
        refused_page(
            &b.get(&redirect_path(&xml, None, None)),
            "wrong Destination",
        );
        // Tenant isolation: the SP belongs to `demo`; another tenant does not know it.
        env.run(&["tenant", "add", "--id", "other", "--name", "別の市"])
            .ok();
        let xml = authn_request(&node.url, &new_id(), OPEN_SP, OPEN_ACS, "", "")
            .replace("/t/demo/saml/sso", "/t/other/saml/sso");
        let q = kakehashi_saml::binding::redirect::encode_redirect(
            kakehashi_saml::binding::MessageParam::Request,
            &xml,
            None,
            None,
        )
        .expect("encode");
        let r = request(
            &node.addr,
            "GET",
            &format!("/t/other/saml/sso?{q}"),
            "",
            None,
        );
        refused_page(&r, "an SP of another tenant");
        assert!(r.body.contains("not registered") || r.body.contains("登録されていません"));
        // Not SAML at all, and an XXE attempt (no DOCTYPE is ever parsed).
        refused_page(&b.get("/t/demo/saml/sso?SAMLRequest=%%%"), "garbage");
        let xxe = format!(
            "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}",
            authn_request(&node.url, &new_id(), OPEN_SP, OPEN_ACS, "", "")
        );
        refused_page(
            &b.post("/t/demo/saml/sso", &[("SAMLRequest", &b64(&xxe))]),
            "DOCTYPE",
        );
    }
}

#[tokio::test]
async fn authn_request_signatures_are_required_when_asked_and_always_checked() {
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        let key = two_sps(&env);
        // Our own setting, for an SP whose metadata does not say AuthnRequestsSigned.
        const STRICT_SP: &str = "https://strict.example.jp/sp";
        const STRICT_ACS: &str = "https://strict.example.jp/acs";
        let strict_key = sp_key("strict SP");
        register(
            &env,
            "校務テスト(設定で署名必須)",
            &sp_metadata(STRICT_SP, STRICT_ACS, Some(strict_key.certificate()), false),
            &[
                "--security-class",
                "learning",
                "--saml-require-signed-requests",
            ],
        );
        let mut b = Browser::new(&node, "demo");
        let req =
            |issuer: &str, acs: &str, id: &str| authn_request(&node.url, id, issuer, acs, "", "");

        // Metadata 2.4.4 AuthnRequestsSigned: unsigned is refused, on both bindings.
        let r = b.get(&redirect_path(
            &req(SIGNED_SP, SIGNED_ACS, &new_id()),
            None,
            None,
        ));
        refused_page(&r, "unsigned redirect");
        assert!(r.body.contains("unsigned"), "{label}: {}", r.body);
        let id = new_id();
        let r = b.post(
            "/t/demo/saml/sso",
            &[(
                "SAMLRequest",
                &post_field(&req(SIGNED_SP, SIGNED_ACS, &id), &id, None),
            )],
        );
        refused_page(&r, "unsigned POST");
        let r = b.get(&redirect_path(
            &req(STRICT_SP, STRICT_ACS, &new_id()),
            None,
            None,
        ));
        refused_page(&r, "unsigned, required by our setting");

        // Bindings 3.4.4.1: a query signature by another key, or an altered one.
        let other = sp_key("attacker");
        let r = b.get(&redirect_path(
            &req(SIGNED_SP, SIGNED_ACS, &new_id()),
            None,
            Some(&other),
        ));
        refused_page(&r, "signed by an untrusted key");
        let good = redirect_path(
            &req(SIGNED_SP, SIGNED_ACS, &new_id()),
            Some("rs"),
            Some(&key),
        );
        let altered = good.replace("RelayState=rs", "RelayState=rx");
        refused_page(&b.get(&altered), "RelayState altered after signing");
        let flipped = {
            let (head, sig) = good.split_once("&Signature=").expect("a Signature");
            let mut sig = sig.to_owned();
            let c = if sig.starts_with('A') { "B" } else { "A" };
            sig.replace_range(0..1, c);
            format!("{head}&Signature={sig}")
        };
        let r = b.get(&flipped);
        refused_page(&r, "bad signature value");
        assert!(r.body.contains("does not verify"), "{label}: {}", r.body);
        // The well-signed request is accepted (it goes on to the login).
        let ok = b.get(&good);
        assert_eq!(ok.status, 303, "{label}: {}", ok.body);
        let ok = b.get(&redirect_path(
            &req(STRICT_SP, STRICT_ACS, &new_id()),
            None,
            Some(&strict_key),
        ));
        assert_eq!(ok.status, 303, "{label}: {}", ok.body);

        // HTTP-POST (Bindings 3.5.4, enveloped signature; Core 5.4): tampering after signing.
        let id = new_id();
        let signed =
            kakehashi_saml::dsig::sign_enveloped(&req(SIGNED_SP, SIGNED_ACS, &id), &id, &key)
                .expect("sign");
        let tampered = signed.replacen(
            "Version=\"2.0\"",
            "Version=\"2.0\" ForceAuthn=\"false\" IsPassive=\"false\"",
            1,
        );
        let r = b.post("/t/demo/saml/sso", &[("SAMLRequest", &b64(&tampered))]);
        refused_page(&r, "tampered signed POST");
        assert!(r.body.contains("digest mismatch"), "{label}: {}", r.body);
        // Signature wrapping: the signed request moved inside an attacker's request that names
        // another ID (xmldsig Reference must point at the processed element, SAML Core 5.4.2).
        let evil_id = new_id();
        let wrapped = req(SIGNED_SP, SIGNED_ACS, &evil_id).replace(
            "</saml:Issuer>",
            &format!("</saml:Issuer><samlp:Extensions>{signed}</samlp:Extensions>"),
        );
        let r = b.post("/t/demo/saml/sso", &[("SAMLRequest", &b64(&wrapped))]);
        refused_page(&r, "XSW: signed request wrapped in an unsigned one");
        assert!(r.body.contains("unsigned"), "{label}: {}", r.body);
        // …and the signature moved onto the attacker's root, still referencing the original.
        let start = signed.find("<ds:Signature xmlns").expect("a signature");
        let end = signed.find("</ds:Signature>").expect("its end") + "</ds:Signature>".len();
        let sig = &signed[start..end];
        let moved = req(SIGNED_SP, SIGNED_ACS, &evil_id)
            .replace("</saml:Issuer>", &format!("</saml:Issuer>{sig}"));
        let r = b.post("/t/demo/saml/sso", &[("SAMLRequest", &b64(&moved))]);
        refused_page(&r, "XSW: signature referencing another element");
        assert!(r.body.contains("Reference URI"), "{label}: {}", r.body);
        // The untouched signed POST is accepted.
        let r = b.post("/t/demo/saml/sso", &[("SAMLRequest", &b64(&signed))]);
        assert_eq!(r.status, 303, "{label}: {}", r.body);
    }
}

#[tokio::test]
async fn requested_authn_context_we_cannot_satisfy_is_answered_no_authn_context_not_downgraded() {
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        two_sps(&env);
        let mut b = Browser::new(&node, "demo");
        let rac = |comparison: &str, class: &str| {
            format!(
                "<samlp:RequestedAuthnContext Comparison=\"{comparison}\"><saml:AuthnContextClassRef>{class}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"
            )
        };
        // Core 3.3.2.2.1: a class no login of ours produces: Responder / NoAuthnContext, at once.
        let id = new_id();
        let xml = authn_request(
            &node.url,
            &id,
            OPEN_SP,
            OPEN_ACS,
            "",
            &rac("exact", "urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos"),
        );
        let r = b.get(&redirect_path(&xml, None, None));
        let resp = saml_response(&r).unwrap_or_else(|| panic!("{label}: {}", r.body));
        assert_eq!(status_codes(&resp), ["Responder", "NoAuthnContext"]);
        assert!(resp.contains(&format!("InResponseTo=\"{id}\"")));
        assert!(
            !resp.contains("<saml:Assertion"),
            "no assertion in an error"
        );
        assert!(resp.contains("<ds:Signature"), "error Responses are signed");

        // Multi-factor asked for; the user signed in with a password only: no downgrade, but
        // the step-up page (docs/MFA.md), and after the factor the Response says so.
        let xml = authn_request(
            &node.url,
            &new_id(),
            OPEN_SP,
            OPEN_ACS,
            "",
            &rac("minimum", "https://refeds.org/profile/mfa"),
        );
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let codes = make_backup_codes(&mut b);
        let step_up = b.get(&redirect_path(&xml, None, None));
        assert_eq!(step_up.status, 403, "{label}: {}", step_up.body);
        assert!(
            saml_response(&step_up).is_none(),
            "nothing sent before the factor"
        );
        let back = use_backup_code(&mut b, &step_up, &codes[0]);
        assert_eq!(back.status, 303, "{label}: {}", back.body);
        let done = b.get(back.header("location").expect("back to the request"));
        let resp = saml_response(&done).unwrap_or_else(|| panic!("{label}: {}", done.body));
        assert_eq!(status_codes(&resp), ["Success"]);
        assert!(resp.contains("https://refeds.org/profile/mfa</saml:AuthnContextClassRef>"));
        // A password-only session again for what follows.
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);

        // A class a password login satisfies is answered, reporting what was done.
        let xml = authn_request(
            &node.url,
            &new_id(),
            OPEN_SP,
            OPEN_ACS,
            "",
            &rac(
                "minimum",
                "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
            ),
        );
        let r = b.get(&redirect_path(&xml, None, None));
        let resp = saml_response(&r).unwrap_or_else(|| panic!("{label}: {}", r.body));
        assert_eq!(status_codes(&resp), ["Success"]);
        assert!(resp.contains("ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>"));

        // A request far older than the accepted window (5 min + 3 min skew), from a registered
        // SP to its registered ACS: the SP is told, Requester (Core 3.2.2.2).
        let stale_id = new_id();
        let fresh = authn_request(&node.url, &stale_id, OPEN_SP, OPEN_ACS, "", "");
        let at = fresh.find("IssueInstant=\"").expect("IssueInstant") + "IssueInstant=\"".len();
        let end = at + fresh[at..].find('"').expect("end of IssueInstant");
        let stale = format!("{}2020-04-01T08:30:00Z{}", &fresh[..at], &fresh[end..]);
        let r = b.get(&redirect_path(&stale, None, None));
        let resp = saml_response(&r).unwrap_or_else(|| panic!("{label}: {}", r.body));
        assert_eq!(status_codes(&resp), ["Requester"], "{resp}");
        assert!(resp.contains(&format!("InResponseTo=\"{stale_id}\"")));

        // Core 3.4.1.1: a NameIDPolicy format we do not issue for this SP.
        let xml = authn_request(
            &node.url,
            &new_id(),
            OPEN_SP,
            OPEN_ACS,
            "",
            "<samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:transient\"/>",
        );
        let r = b.get(&redirect_path(&xml, None, None));
        let resp = saml_response(&r).unwrap_or_else(|| panic!("{label}: {}", r.body));
        assert_eq!(status_codes(&resp), ["Requester", "InvalidNameIDPolicy"]);
    }
}

#[tokio::test]
async fn is_passive_never_shows_a_login_page_and_force_authn_asks_again() {
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        two_sps(&env);
        let mut b = Browser::new(&node, "demo");
        // Core 3.4.1 IsPassive: no session → Responder / NoPassive, no login page.
        let xml = authn_request(
            &node.url,
            &new_id(),
            OPEN_SP,
            OPEN_ACS,
            "IsPassive=\"true\"",
            "",
        );
        let r = b.get(&redirect_path(&xml, None, None));
        let resp = saml_response(&r).unwrap_or_else(|| panic!("{label}: {} {}", r.status, r.body));
        assert_eq!(status_codes(&resp), ["Responder", "NoPassive"]);

        // With a session, IsPassive is answered silently.
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let xml = authn_request(
            &node.url,
            &new_id(),
            OPEN_SP,
            OPEN_ACS,
            "IsPassive=\"true\"",
            "",
        );
        let r = b.get(&redirect_path(&xml, None, None));
        let resp = saml_response(&r).unwrap_or_else(|| panic!("{label}: {}", r.body));
        assert_eq!(status_codes(&resp), ["Success"]);

        // Core 3.4.1 ForceAuthn: the password again, even with a session.
        let xml = authn_request(
            &node.url,
            &new_id(),
            OPEN_SP,
            OPEN_ACS,
            "ForceAuthn=\"true\"",
            "",
        );
        let sso = b.get(&redirect_path(&xml, None, None));
        assert!(
            sso.header("location")
                .is_some_and(|l| l.contains("prompt=login")),
            "{label}: {:?}",
            sso.header("location")
        );
        let back = login_return_to(&sso);
        // The session alone does not satisfy it: resuming without logging in asks again.
        let not_yet = b.get(&back);
        assert_eq!(not_yet.status, 303, "{label}");
        let form = b.get(not_yet.header("location").unwrap_or_default());
        assert_eq!(
            form.status, 200,
            "the login form even with a session: {}",
            form.body
        );
        assert!(form.body.contains("name=\"password\""));
        let done = login_and_resume(&mut b, &sso, TEACHER, TEACHER_PASSWORD);
        let resp = saml_response(&done).unwrap_or_else(|| panic!("{label}: {}", done.body));
        assert_eq!(status_codes(&resp), ["Success"]);
    }
}

#[tokio::test]
async fn pupils_are_refused_by_a_staff_sp_and_school_affairs_needs_a_second_factor() {
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        two_sps(&env);
        const KOUMU_SP: &str = "https://koumu.example.jp/sp";
        const KOUMU_ACS: &str = "https://koumu.example.jp/acs";
        register(
            &env,
            "校務支援システム",
            &sp_metadata(KOUMU_SP, KOUMU_ACS, None, false),
            &["--security-class", "school-affairs"],
        );
        // The launch policy (portal::access) applies to SP-initiated SSO: a pupil at a
        // staff-only SP gets Responder / RequestDenied (Core 3.2.2.2).
        let mut pupil = Browser::new(&node, "demo");
        let xml = authn_request(&node.url, &new_id(), OPEN_SP, OPEN_ACS, "", "");
        let sso = pupil.get(&redirect_path(&xml, None, None));
        let done = login_and_resume(&mut pupil, &sso, PUPIL, PUPIL_PASSWORD);
        let resp = saml_response(&done).unwrap_or_else(|| panic!("{label}: {}", done.body));
        assert_eq!(status_codes(&resp), ["Responder", "RequestDenied"]);
        assert!(!resp.contains("<saml:Assertion"));

        // A teacher with a password only, at a school-affairs SP: the second-factor page.
        let mut teacher = Browser::new(&node, "demo");
        assert_eq!(teacher.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let xml = authn_request(&node.url, &new_id(), KOUMU_SP, KOUMU_ACS, "", "");
        let r = teacher.get(&redirect_path(&xml, None, None));
        assert_eq!(r.status, 403, "{label}: {}", r.body);
        assert!(r.body.contains("二要素認証が必要です"), "{}", r.body);
        assert!(saml_response(&r).is_none());
        // …and from the launcher (IdP-initiated), the same page.
        let actions = audit_actions(&env).await;
        assert!(
            actions
                .iter()
                .any(|(a, d)| a == "saml.sso.refused" && d.contains("RequestDenied")),
            "{label}: {actions:?}"
        );
        assert!(actions
            .iter()
            .any(|(a, _)| a == "saml.sso.second_factor_required"));
    }
}

#[tokio::test]
async fn single_logout_needs_a_signed_request_and_ends_the_portal_session() {
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        const SLO_SP: &str = "https://slo.example.jp/sp";
        const SLO_ACS: &str = "https://slo.example.jp/acs";
        const SLO_URL: &str = "https://slo.example.jp/slo";
        let key = sp_key("SLO SP");
        let md = sp_metadata(SLO_SP, SLO_ACS, Some(key.certificate()), false).replace(
            "<md:AssertionConsumerService",
            &format!("<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{SLO_URL}\"/><md:AssertionConsumerService"),
        );
        register(
            &env,
            "ログアウト試験",
            &md,
            &["--security-class", "learning"],
        );
        let idp_md = request(&node.addr, "GET", "/t/demo/saml/metadata", "", None).body;
        assert!(
            idp_md.contains(&format!("SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{}/t/demo/saml/slo\"", node.url)),
            "{idp_md}"
        );
        let idp_cert = kakehashi_saml::Certificate::from_base64_der(
            idp_md
                .split("<ds:X509Certificate>")
                .nth(1)
                .and_then(|s| s.split('<').next())
                .expect("IdP certificate"),
        )
        .expect("certificate");

        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let cookie = b.cookie();
        let xml = authn_request(&node.url, &new_id(), SLO_SP, SLO_ACS, "", "");
        let resp = saml_response(&b.get(&redirect_path(&xml, None, None))).expect("a Response");
        let name_id = resp
            .split("<saml:NameID")
            .nth(1)
            .and_then(|s| s.split('>').nth(1))
            .and_then(|s| s.split('<').next())
            .expect("NameID")
            .to_owned();
        let session_index = resp
            .split("SessionIndex=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("SessionIndex")
            .to_owned();
        let logout = |id: &str| {
            format!(
                r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{url}/t/demo/saml/slo"><saml:Issuer>{SLO_SP}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{name_id}</saml:NameID><samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>"#,
                now = now_instant(),
                url = node.url
            )
        };
        let slo_path = |xml: &str, key: Option<&kakehashi_saml::SigningKey>| {
            let q = kakehashi_saml::binding::redirect::encode_redirect(
                kakehashi_saml::binding::MessageParam::Request,
                xml,
                Some("after-logout"),
                key,
            )
            .expect("encode");
            format!("/t/demo/saml/slo?{q}")
        };
        // Profiles 4.4.4.1: an unsigned (or foreign-signed) LogoutRequest ends nothing.
        refused_page(
            &b.get(&slo_path(&logout(&new_id()), None)),
            "unsigned LogoutRequest",
        );
        refused_page(
            &b.get(&slo_path(&logout(&new_id()), Some(&sp_key("attacker")))),
            "LogoutRequest signed by another key",
        );
        assert_eq!(
            request(&node.addr, "GET", "/t/demo/", &cookie, None).status,
            200
        );

        // Signed: the portal session ends; a signed LogoutResponse goes to the SP's SLO URL.
        let signed = slo_path(&logout(&new_id()), Some(&key));
        let r = b.get(&signed);
        assert_eq!(r.status, 303, "{label}: {}", r.body);
        let loc = r.header("location").unwrap_or_default().to_owned();
        let query = loc
            .strip_prefix(&format!("{SLO_URL}?"))
            .unwrap_or_else(|| panic!("{label}: {loc}"));
        let msg = kakehashi_saml::binding::redirect::decode_redirect(query).expect("decode");
        msg.verify_signature(&[idp_cert], &Default::default())
            .expect("the LogoutResponse query is signed by the IdP (Bindings 3.4.4.1)");
        assert!(msg.xml.contains("status:Success"), "{}", msg.xml);
        assert_eq!(msg.relay_state.as_deref(), Some("after-logout"));
        assert!(r
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("kakehashi_session=;") && c.contains("Max-Age=0")));
        let after = request(&node.addr, "GET", "/t/demo/", &cookie, None);
        assert_eq!(after.status, 303, "{label}: the portal session is over");
        // The same LogoutRequest again is a replay.
        refused_page(&b.get(&signed), "replayed LogoutRequest");
        let actions = audit_actions(&env).await;
        assert!(
            actions
                .iter()
                .any(|(a, d)| a == "saml.slo" && d.contains("\"portalSessionsEnded\":1")),
            "{label}: {actions:?}"
        );
    }
}

async fn sp_session_rows(env: &Env) -> i64 {
    let store = kakehashi_store::Store::open(&env.database_url())
        .await
        .expect("open store");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM saml_sp_sessions")
        .fetch_one(store.pool())
        .await
        .expect("count");
    store.close().await;
    n
}

#[tokio::test]
async fn app_add_stores_the_saml_settings_and_refuses_unknown_ones() {
    for env in Env::both().await {
        let label = env.label();
        env.run(&["tenant", "add", "--id", "demo", "--name", "デモ市"])
            .ok();
        let base = [
            "app",
            "add",
            "--tenant",
            "demo",
            "--name",
            "校務",
            "--protocol",
            "saml",
            "--security-class",
            "learning",
            "--saml-acs-url",
            "https://koumu.example.jp/acs",
            "--saml-entity-id",
            "https://koumu.example.jp/sp",
        ];
        let bad = env.run(&[&base[..], &["--saml-attributes", "uid,password"]].concat());
        assert_ne!(bad.code, 0, "{label}");
        assert!(
            bad.stderr.contains("unknown SAML attribute \"password\""),
            "{}",
            bad.stderr
        );
        let bad = env.run(&[&base[..], &["--saml-sign", "nothing"]].concat());
        assert!(
            bad.stderr.contains("assertion, response or both"),
            "{}",
            bad.stderr
        );
        env.run(
            &[
                &base[..],
                &[
                    "--saml-sign",
                    "response",
                    "--saml-name-id",
                    "username",
                    "--saml-attributes",
                    "displayName, kanaFamilyName",
                    "--saml-require-signed-requests",
                ],
            ]
            .concat(),
        )
        .ok();
        let list = env
            .run(&["app", "list", "--tenant", "demo", "--format", "json"])
            .ok();
        let v: serde_json::Value = serde_json::from_str(&list.stdout).expect("json");
        assert_eq!(
            v.as_array().map(Vec::len),
            Some(1),
            "{label}: the bad ones were not added"
        );
        let saml = &v[0]["saml"];
        assert_eq!(saml["sign"], "response");
        assert_eq!(saml["name_id"], "username");
        assert_eq!(
            saml["attributes"],
            serde_json::json!(["displayName", "kanaFamilyName"])
        );
        assert_eq!(saml["require_signed_requests"], true);
        // `app saml-settings` changes what is given and keeps the rest.
        let id = v[0]["id"].as_str().expect("id").to_owned();
        env.run(&[
            "app",
            "saml-settings",
            "--tenant",
            "demo",
            "--id",
            &id,
            "--saml-sign",
            "both",
            "--saml-attributes",
            "",
            "--saml-require-signed-requests",
            "false",
        ])
        .ok();
        let list = env
            .run(&["app", "list", "--tenant", "demo", "--format", "json"])
            .ok();
        let v: serde_json::Value = serde_json::from_str(&list.stdout).expect("json");
        let saml = &v[0]["saml"];
        assert_eq!(saml["sign"], "both", "{label}");
        assert_eq!(saml["name_id"], "username", "kept");
        assert_eq!(saml["attributes"], serde_json::json!([]));
        assert_eq!(saml["require_signed_requests"], false);
        env.run(&["app", "saml-settings", "--tenant", "demo", "--id", "nope"])
            .code(1);
        let oidc = env.run(&[
            "app",
            "add",
            "--tenant",
            "demo",
            "--name",
            "ドリル",
            "--protocol",
            "oidc",
            "--security-class",
            "learning",
            "--redirect-uri",
            "https://drill.example/cb",
            "--saml-sign",
            "both",
        ]);
        assert!(
            oidc.stderr.contains("are for --protocol saml"),
            "{}",
            oidc.stderr
        );
    }
}

#[tokio::test]
async fn a_request_received_by_one_node_is_answered_by_another() {
    for env in Env::both().await {
        let label = env.label();
        let a = start(&env, &["--demo"]);
        let b = start(&env, &[]);
        two_sps(&env);
        // The request reaches node A; the login and the answer happen on node B: the pending
        // request is in the database, not in a node. (Both nodes here have their own public
        // URL, so the request is sent to A; in production they share one.)
        let mut on_a = Browser::new(&a, "demo");
        let id = new_id();
        let xml = authn_request(&a.url, &id, OPEN_SP, OPEN_ACS, "", "");
        let sso = on_a.get(&redirect_path(&xml, None, None));
        let back = login_return_to(&sso);
        let mut on_b = Browser::new(&b, "demo");
        assert_eq!(
            on_b.login_to(TEACHER, TEACHER_PASSWORD, Some(&back)).status,
            303,
            "{label}"
        );
        let done = on_b.get(&back);
        let resp = saml_response(&done).unwrap_or_else(|| panic!("{label}: {}", done.body));
        assert_eq!(status_codes(&resp), ["Success"]);
        assert!(resp.contains(&format!("InResponseTo=\"{id}\"")));
        // The pending request was answered once: resuming it again on node A is refused.
        let mut on_a = Browser::new(&a, "demo");
        on_a.session_cookie = on_b.session_cookie.clone();
        let twice = on_a.get(&back);
        refused_page(&twice, "a pending request answered twice");
        assert!(twice.body.contains("有効期限"), "{label}: {}", twice.body);
    }
}

/// Every `ds:X509Certificate` of a document, in order.
fn certificates(xml: &str) -> Vec<String> {
    xml.split("<ds:X509Certificate>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_signing_certificate_rotates_through_the_metadata_before_it_signs() {
    for env in Env::both().await {
        let label = env.label();
        let node = start(&env, &["--demo"]);
        two_sps(&env);
        let metadata = || request(&node.addr, "GET", "/t/demo/saml/metadata", "", None).body;
        let before = certificates(&metadata());
        assert_eq!(
            before.len(),
            2,
            "{label}: current and next are both published"
        );
        let mut b = Browser::new(&node, "demo");
        assert_eq!(b.login(TEACHER, TEACHER_PASSWORD).status, 303);
        let mut signer = || {
            let xml = authn_request(&node.url, &new_id(), OPEN_SP, OPEN_ACS, "", "");
            let r = b.get(&redirect_path(&xml, None, None));
            let resp = saml_response(&r).unwrap_or_else(|| panic!("{label}: {}", r.body));
            certificates(&resp)[0].clone()
        };
        assert_eq!(signer(), before[0], "{label}: the current key signs");

        // Too soon: the next certificate must have been published for a while (default 7 days).
        let early = env.run(&["keys", "rotate-saml", "--tenant", "demo"]);
        assert_eq!(early.code, 1, "{label}: {}", early.stderr);
        assert!(
            early.stderr.contains("SPs may not have it yet"),
            "{}",
            early.stderr
        );
        env.run(&[
            "keys",
            "rotate-saml",
            "--tenant",
            "demo",
            "--min-published-seconds",
            "0",
        ])
        .ok();
        let after = certificates(&metadata());
        assert_eq!(
            after.len(),
            3,
            "{label}: current, a new next, and the retired one"
        );
        assert_eq!(
            after[0], before[1],
            "{label}: the published next key became current"
        );
        assert!(
            after.contains(&before[0]),
            "{label}: the old one stays published"
        );
        assert!(!before.contains(&after[1]), "{label}: a new next key");
        assert_eq!(signer(), before[1], "{label}: it signs now");
        let actions = audit_actions(&env).await;
        assert!(
            actions.iter().any(|(a, _)| a == "saml.keys.rotate"),
            "{label}"
        );
    }
}
