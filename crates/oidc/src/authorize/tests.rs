//! Authorization request rules, one test per rule (OIDC Core 3.1.2.1 / 3.1.2.6, RFC 7636,
//! RFC 9207).

use super::*;
use crate::client::ClientPolicy;
use crate::error::ErrorCode;
use crate::issuer::Issuer;
use crate::params::Params;

const CB: &str = "https://rp.example/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn issuer() -> Issuer {
    Issuer::new("https://portal.example/t/kyoto").unwrap()
}

fn client() -> ClientPolicy {
    ClientPolicy::confidential("rp", "secret", CB)
}

fn base() -> Vec<(&'static str, &'static str)> {
    vec![
        ("client_id", "rp"),
        ("redirect_uri", CB),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "st"),
        ("nonce", "n-1"),
    ]
}

fn with(mut pairs: Vec<(&'static str, &'static str)>, k: &'static str, v: &'static str) -> Params {
    pairs.retain(|(n, _)| *n != k);
    pairs.push((k, v));
    Params::from_pairs(pairs)
}

fn run(params: &Params) -> Result<AuthorizationRequest, AuthorizeError> {
    validate(params, Some(&client()), &issuer())
}

fn redirected_code(r: Result<AuthorizationRequest, AuthorizeError>) -> (ErrorCode, String) {
    match r {
        Err(AuthorizeError::Redirect {
            error,
            response: AuthorizationResponse::Redirect { location },
        }) => (error.code, location),
        other => panic!("expected a redirected error, got {other:?}"),
    }
}

#[test]
fn oidc_3_1_2_1_valid_code_request_is_accepted() {
    let req = run(&Params::from_pairs(base())).unwrap();
    assert_eq!(req.scopes, ["openid", "profile"]);
    assert_eq!(req.nonce.as_deref(), Some("n-1"));
    assert_eq!(req.response_mode, ResponseMode::Query);
}

#[test]
fn oidc_3_1_2_6_redirect_uri_mismatch_is_shown_not_redirected() {
    let r = run(&with(base(), "redirect_uri", "https://evil.example/cb"));
    assert!(matches!(
        r,
        Err(AuthorizeError::ShowToUser(
            UserFacingError::RedirectUriMismatch(_)
        ))
    ));
    // Prefix and trailing-slash variants do not match either (exact string comparison).
    let r = run(&with(base(), "redirect_uri", "https://rp.example/cb/"));
    assert!(matches!(r, Err(AuthorizeError::ShowToUser(_))));
}

#[test]
fn oidc_3_1_2_6_unknown_client_is_shown_not_redirected() {
    let r = validate(&Params::from_pairs(base()), None, &issuer());
    assert_eq!(
        r.unwrap_err(),
        AuthorizeError::ShowToUser(UserFacingError::UnknownClient("rp".into()))
    );
    let mut pairs = base();
    pairs.retain(|(k, _)| *k != "client_id");
    let r = run(&Params::from_pairs(pairs));
    assert_eq!(
        r.unwrap_err(),
        AuthorizeError::ShowToUser(UserFacingError::MissingClientId)
    );
}

#[test]
fn oidc_3_1_2_1_missing_redirect_uri_is_shown() {
    let mut pairs = base();
    pairs.retain(|(k, _)| *k != "redirect_uri");
    let r = run(&Params::from_pairs(pairs));
    assert_eq!(
        r.unwrap_err(),
        AuthorizeError::ShowToUser(UserFacingError::MissingRedirectUri)
    );
}

#[test]
fn rfc6749_3_1_repeated_parameter_is_invalid_request() {
    let mut pairs = base();
    pairs.push(("scope", "openid"));
    assert_eq!(
        redirected_code(run(&Params::from_pairs(pairs))).0,
        ErrorCode::InvalidRequest
    );
    let mut pairs = base();
    pairs.push(("redirect_uri", CB));
    assert!(matches!(
        run(&Params::from_pairs(pairs)),
        Err(AuthorizeError::ShowToUser(_))
    ));
}

#[test]
fn oidc_3_1_2_6_error_redirect_carries_state_and_iss_rfc9207() {
    let (code, location) = redirected_code(run(&with(base(), "response_type", "token")));
    assert_eq!(code, ErrorCode::UnsupportedResponseType);
    let url = url::Url::parse(&location).unwrap();
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(q.contains(&("error".into(), "unsupported_response_type".into())));
    assert!(q.contains(&("state".into(), "st".into())));
    assert!(q.contains(&("iss".into(), "https://portal.example/t/kyoto".into())));
}

#[test]
fn oidc_3_1_2_1_only_response_type_code_is_supported() {
    for rt in ["id_token", "code id_token", "token", "id_token token"] {
        let mut pairs = base();
        pairs.retain(|(k, _)| *k != "response_type");
        pairs.push(("response_type", rt));
        assert_eq!(
            redirected_code(run(&Params::from_pairs(pairs))).0,
            ErrorCode::UnsupportedResponseType
        );
    }
}

#[test]
fn oidc_3_1_2_1_scope_must_contain_openid() {
    assert_eq!(
        redirected_code(run(&with(base(), "scope", "profile"))).0,
        ErrorCode::InvalidScope
    );
}

#[test]
fn oidc_3_1_2_1_scopes_not_allowed_for_client_are_ignored() {
    let req = run(&with(base(), "scope", "openid admin profile openid")).unwrap();
    assert_eq!(req.scopes, ["openid", "profile"]);
}

#[test]
fn rfc7636_public_client_without_pkce_is_refused() {
    let public = ClientPolicy::public("rp", CB);
    let r = validate(&Params::from_pairs(base()), Some(&public), &issuer());
    assert_eq!(redirected_code(r).0, ErrorCode::InvalidRequest);
    let mut pairs = base();
    pairs.push(("code_challenge", CHALLENGE));
    pairs.push(("code_challenge_method", "S256"));
    let req = validate(&Params::from_pairs(pairs), Some(&public), &issuer()).unwrap();
    assert_eq!(req.code_challenge.unwrap().as_str(), CHALLENGE);
}

#[test]
fn rfc7636_4_3_plain_pkce_is_refused_downgrade() {
    let mut pairs = base();
    pairs.push(("code_challenge", CHALLENGE));
    pairs.push(("code_challenge_method", "plain"));
    assert_eq!(
        redirected_code(run(&Params::from_pairs(pairs))).0,
        ErrorCode::InvalidRequest
    );
    // No method means plain (RFC 7636 4.3).
    let r = run(&with(base(), "code_challenge", CHALLENGE));
    assert_eq!(redirected_code(r).0, ErrorCode::InvalidRequest);
}

#[test]
fn oidc_3_1_2_1_prompt_none_with_login_is_invalid_request() {
    let (code, _) = redirected_code(run(&with(base(), "prompt", "none login")));
    assert_eq!(code, ErrorCode::InvalidRequest);
    let req = run(&with(base(), "prompt", "login consent")).unwrap();
    assert!(req.has_prompt(Prompt::Login) && req.has_prompt(Prompt::Consent));
    assert_eq!(
        redirected_code(run(&with(base(), "prompt", "bogus"))).0,
        ErrorCode::InvalidRequest
    );
}

#[test]
fn oidc_3_1_2_1_max_age_forces_fresh_login() {
    let req = run(&with(base(), "max_age", "300")).unwrap();
    assert!(!req.requires_fresh_login(Some(1_000), 1_300));
    assert!(req.requires_fresh_login(Some(1_000), 1_301));
    assert!(req.requires_fresh_login(None, 1_000));
    assert_eq!(
        redirected_code(run(&with(base(), "max_age", "-1"))).0,
        ErrorCode::InvalidRequest
    );
    let login = run(&with(base(), "prompt", "login")).unwrap();
    assert!(login.requires_fresh_login(Some(1_000), 1_000));
}

#[test]
fn oidc_6_request_and_request_uri_are_not_supported() {
    let (code, _) = redirected_code(run(&with(base(), "request", "eyJ...")));
    assert_eq!(code, ErrorCode::RequestNotSupported);
    let (code, _) = redirected_code(run(&with(base(), "request_uri", "https://rp.example/r")));
    assert_eq!(code, ErrorCode::RequestUriNotSupported);
}

#[test]
fn oidc_5_5_claims_parameter_with_essential_acr() {
    let claims = r#"{"id_token":{"acr":{"essential":true,"values":["urn:kakehashi:acr:mfa"]},"email":null},"userinfo":{"name":null}}"#;
    let req = run(&with(base(), "claims", claims)).unwrap();
    let (values, essential) = req.requested_acr();
    assert_eq!(values, ["urn:kakehashi:acr:mfa"]);
    assert!(essential);
    assert_eq!(
        redirected_code(run(&with(base(), "claims", "{not json"))).0,
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        redirected_code(run(&with(base(), "claims", r#"{"id_token":{"acr":5}}"#))).0,
        ErrorCode::InvalidRequest
    );
}

#[test]
fn oidc_3_1_2_1_acr_values_login_hint_ui_locales_are_kept() {
    let mut pairs = base();
    pairs.extend([
        ("acr_values", "urn:a urn:b"),
        ("login_hint", "taro"),
        ("ui_locales", "ja en"),
    ]);
    let req = run(&Params::from_pairs(pairs)).unwrap();
    assert_eq!(req.acr_values, ["urn:a", "urn:b"]);
    assert_eq!(req.login_hint.as_deref(), Some("taro"));
    assert_eq!(req.ui_locales, ["ja", "en"]);
}

#[test]
fn form_post_response_mode_posts_code_state_iss() {
    let req = run(&with(base(), "response_mode", "form_post")).unwrap();
    match req.success_response("c0de", &issuer()) {
        AuthorizationResponse::FormPost { action, fields } => {
            assert_eq!(action, CB);
            assert_eq!(fields[0], ("code".into(), "c0de".into()));
            assert!(fields.contains(&("iss".into(), "https://portal.example/t/kyoto".into())));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        redirected_code(run(&with(base(), "response_mode", "fragment"))).0,
        ErrorCode::InvalidRequest
    );
}

#[test]
fn rfc6749_3_1_2_success_redirect_keeps_registered_query() {
    let mut c = client();
    c.redirect_uris = vec!["https://rp.example/cb?tenant=a".into()];
    let p = with(base(), "redirect_uri", "https://rp.example/cb?tenant=a");
    let req = validate(&p, Some(&c), &issuer()).unwrap();
    let AuthorizationResponse::Redirect { location } = req.success_response("x y", &issuer())
    else {
        panic!()
    };
    assert_eq!(
        location,
        "https://rp.example/cb?tenant=a&code=x+y&state=st&iss=https%3A%2F%2Fportal.example%2Ft%2Fkyoto"
    );
}

#[test]
fn rfc6749_3_1_empty_parameter_is_treated_as_omitted() {
    let req = run(&with(base(), "nonce", "")).unwrap();
    assert_eq!(req.nonce, None);
}
