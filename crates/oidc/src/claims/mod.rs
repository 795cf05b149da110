//! Claims: the ID token (OIDC Core 2, 3.1.3.6), JWT access tokens (RFC 9068), `sub`
//! computation (OIDC Core 8), userinfo / ID token claim release (OIDC Core 5) and Logout
//! Tokens with `sid` (Back-Channel Logout 1.0).

mod access_token;
mod id_token;
mod logout_token;
mod subject;
mod userinfo;

pub use access_token::{AccessTokenClaims, ACCESS_TOKEN_TYP};
pub use id_token::{hash_claim, Audience, IdTokenClaims};
pub use logout_token::{
    session_id, LogoutTokenClaims, BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_LIFETIME,
    LOGOUT_TOKEN_TYP,
};
pub use subject::{pairwise_subject, sector_identifier_from_redirect_uris, subject_for};
pub use userinfo::{
    release_claims, ClassRef, ReleasePolicy, RosterClaims, SchoolRef, UserProfile, KANA_TAG,
    ROSTER_CLAIM_PREFIX, ROSTER_CLASSES, ROSTER_GRADE, ROSTER_ROLE, ROSTER_SCHOOL, ROSTER_SCOPE,
};
