//! Provider metadata (OIDC Discovery 3; RFC 8414 2), served at
//! `{issuer}/.well-known/openid-configuration`.

use serde::Serialize;

use crate::claims::{
    KANA_TAG, ROSTER_CLASSES, ROSTER_GRADE, ROSTER_ROLE, ROSTER_SCHOOL, ROSTER_SCOPE,
};
use crate::issuer::Issuer;
use crate::jose::Algorithm;

/// The discovery document. Build with [`ProviderMetadata::for_issuer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    pub end_session_endpoint: String,
    pub scopes_supported: Vec<String>,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub userinfo_signing_alg_values_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub claims_supported: Vec<String>,
    pub claim_types_supported: Vec<&'static str>,
    pub claims_locales_supported: Vec<&'static str>,
    pub ui_locales_supported: Vec<&'static str>,
    pub acr_values_supported: Vec<String>,
    pub prompt_values_supported: Vec<&'static str>,
    pub display_values_supported: Vec<&'static str>,
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
    pub require_request_uri_registration: bool,
    /// RFC 9207 3: we send `iss` in every authorization response.
    pub authorization_response_iss_parameter_supported: bool,
    pub frontchannel_logout_supported: bool,
    /// Back-Channel Logout 1.0 section 2.1: Logout Tokens are POSTed to the RPs that
    /// registered a `backchannel_logout_uri`.
    pub backchannel_logout_supported: bool,
    /// Back-Channel Logout 1.0 section 2.1: Logout Tokens carry `sid`, as ID tokens do.
    pub backchannel_logout_session_supported: bool,
}

/// `acr` for a password (single-factor) login.
pub const ACR_PASSWORD: &str = "urn:kakehashi:acr:pwd";
/// `acr` for a login with a second factor (WebAuthn), required by `school-affairs` apps.
pub const ACR_MFA: &str = "urn:kakehashi:acr:mfa";

impl ProviderMetadata {
    /// The metadata for `issuer`, with the endpoints at the paths of [`Issuer`].
    pub fn for_issuer(issuer: &Issuer) -> Self {
        let verify_algs: Vec<&'static str> = Algorithm::VERIFY.iter().map(|a| a.as_str()).collect();
        let auth_methods = vec![
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ];
        let mut claims: Vec<String> = [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "azp",
            "sid",
            "name",
            "family_name",
            "given_name",
            "preferred_username",
            "locale",
            "email",
            "email_verified",
        ]
        .map(String::from)
        .to_vec();
        for base in ["name", "family_name", "given_name"] {
            claims.push(format!("{base}#{KANA_TAG}"));
        }
        claims.extend([ROSTER_SCHOOL, ROSTER_GRADE, ROSTER_CLASSES, ROSTER_ROLE].map(String::from));
        ProviderMetadata {
            issuer: issuer.as_str().to_string(),
            authorization_endpoint: issuer.authorization_endpoint(),
            token_endpoint: issuer.token_endpoint(),
            userinfo_endpoint: issuer.userinfo_endpoint(),
            jwks_uri: issuer.jwks_uri(),
            revocation_endpoint: issuer.revocation_endpoint(),
            introspection_endpoint: issuer.introspection_endpoint(),
            end_session_endpoint: issuer.end_session_endpoint(),
            scopes_supported: ["openid", "profile", "email", ROSTER_SCOPE, "offline_access"]
                .map(String::from)
                .to_vec(),
            response_types_supported: vec!["code"],
            response_modes_supported: vec!["query", "form_post"],
            grant_types_supported: vec![
                "authorization_code",
                "refresh_token",
                "client_credentials",
            ],
            subject_types_supported: vec!["pairwise", "public"],
            id_token_signing_alg_values_supported: Algorithm::SIGN
                .iter()
                .map(|a| a.as_str())
                .collect(),
            userinfo_signing_alg_values_supported: Vec::new(),
            token_endpoint_auth_methods_supported: auth_methods.clone(),
            token_endpoint_auth_signing_alg_values_supported: verify_algs,
            revocation_endpoint_auth_methods_supported: auth_methods.clone(),
            introspection_endpoint_auth_methods_supported: auth_methods
                .into_iter()
                .filter(|m| *m != "none")
                .collect(),
            code_challenge_methods_supported: vec!["S256"],
            claims_supported: claims,
            claim_types_supported: vec!["normal"],
            claims_locales_supported: vec!["ja", "ja-Kana-JP", "en"],
            ui_locales_supported: vec!["ja", "en"],
            acr_values_supported: vec![ACR_PASSWORD.into(), ACR_MFA.into()],
            prompt_values_supported: vec!["none", "login", "consent", "select_account"],
            display_values_supported: vec!["page", "touch"],
            claims_parameter_supported: true,
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
            require_request_uri_registration: false,
            authorization_response_iss_parameter_supported: true,
            frontchannel_logout_supported: false,
            backchannel_logout_supported: true,
            backchannel_logout_session_supported: true,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_3_metadata_has_required_fields_for_tenant_issuer() {
        let iss = Issuer::for_tenant("https://portal.example", "kyoto").unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&ProviderMetadata::for_issuer(&iss).to_json()).unwrap();
        // OIDC Discovery 4.3: issuer identical to the one used to fetch the document.
        assert_eq!(v["issuer"], "https://portal.example/t/kyoto");
        assert_eq!(v["jwks_uri"], "https://portal.example/t/kyoto/jwks");
        assert_eq!(v["response_types_supported"], serde_json::json!(["code"]));
        assert_eq!(
            v["subject_types_supported"],
            serde_json::json!(["pairwise", "public"])
        );
        assert_eq!(
            v["id_token_signing_alg_values_supported"],
            serde_json::json!(["RS256", "ES256"])
        );
        assert_eq!(
            v["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(v["authorization_response_iss_parameter_supported"], true);
        assert_eq!(v["claims_parameter_supported"], true);
        assert_eq!(v["request_parameter_supported"], false);
        assert!(v["claims_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "family_name#ja-Kana-JP"));
        assert!(v["claims_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == ROSTER_GRADE));
    }
}
