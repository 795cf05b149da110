//! Who is calling the LRS and what they may do: an HTTP Basic credential (all, or reads only)
//! or an OAuth 2.0 bearer token of this tenant's OpenID Provider with xAPI scopes
//! (Communication 4.1, 4.2; the scope rules are in `kakehashi_xapi::scope`).

use kakehashi_store::oauth as tokens;
use kakehashi_store::{identity, StoreError, TenantId};
use kakehashi_xapi::scope::{Decision, Operation, Resource, ScopeSet};
use kakehashi_xapi::{Ifi, Version};
use serde_json::{json, Value};

use super::LrsError;
use crate::Clock;

/// How the caller authenticated, and so what it may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// An HTTP Basic credential (`kakehashi lrs credential add`).
    Credential { read_only: bool },
    /// An OAuth 2.0 access token with these xAPI scopes.
    Bearer(ScopeSet),
}

/// Who is calling: the credential or OAuth client and the `authority` Agent it stamps on
/// statements.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub tenant: TenantId,
    /// The credential key, or the OAuth client id.
    pub key: String,
    pub access: Access,
    /// Data 2.4.9: the authority the LRS sets on statements this caller stores.
    pub authority: Value,
    /// The xAPI line the credential's tool speaks, when it was registered with one.
    pub version_line: Option<Version>,
}

/// Which statements a caller may read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatementReach {
    All,
    /// `statements/read/mine`: those whose authority has this IFI key (`Ifi::key`).
    AuthoredBy(String),
}

impl Authenticated {
    /// Whether the caller may do `op` on `resource`; an error is 403 naming what is missing.
    pub fn authorize(&self, resource: Resource, op: Operation) -> Result<StatementReach, LrsError> {
        match &self.access {
            Access::Credential { read_only: true } if op == Operation::Write => {
                Err(LrsError::Forbidden("this credential is read-only".into()))
            }
            Access::Credential { .. } => Ok(StatementReach::All),
            Access::Bearer(scopes) => match scopes.decide(resource, op) {
                Decision::Allowed => Ok(StatementReach::All),
                Decision::OnlyMine => Ok(StatementReach::AuthoredBy(self.authority_key())),
                Decision::Denied { needed } => Err(LrsError::InsufficientScope { needed }),
            },
        }
    }

    /// Whether statements stored by this caller may update canonical Activity definitions
    /// (Communication 4.2.s2 `define`). Basic credentials may.
    pub fn may_define(&self) -> bool {
        match &self.access {
            Access::Credential { .. } => true,
            Access::Bearer(scopes) => scopes.may_define(),
        }
    }

    /// The IFI key of [`Self::authority`] (what `statements/read/mine` compares).
    pub fn authority_key(&self) -> String {
        Ifi::of(&self.authority)
            .map(|i| i.key())
            .unwrap_or_default()
    }
}

/// Checks `Authorization: Bearer TOKEN` against the tenant's live access tokens. A token of
/// another tenant is unknown here (the tenant is part of the lookup); revoked, expired,
/// refresh tokens and tokens of removed apps are refused (401). Opaque and JWT access tokens
/// are both stored by their SHA-256, so one lookup serves both.
///
/// The authority is the OAuth client's Agent: account `{homePage: issuer, name: client_id}`
/// (Communication 4.1.s4.b1: "the Agent representing the registered application").
pub async fn authenticate_bearer(
    store: &kakehashi_store::Store,
    clock: &dyn Clock,
    tenant: &TenantId,
    token: &str,
    issuer: &str,
) -> Result<Authenticated, LrsError> {
    let invalid = || LrsError::InvalidToken("the access token is not valid".into());
    if token.is_empty() {
        return Err(invalid());
    }
    let hash = crate::oauth::token_hash(token);
    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
    let row = tokens::find_token(&mut conn, tenant, &hash).await?;
    drop(conn);
    let now = clock.now().unix_timestamp();
    let Some(row) =
        row.filter(|t| t.kind == "access" && t.revoked_at.is_none() && t.expires_at > now)
    else {
        return Err(invalid());
    };
    let Some(app) = identity::get_app(store, tenant, &row.client_id)
        .await?
        .filter(|a| a.protocol == "oidc")
    else {
        return Err(invalid());
    };
    // The app's registration is the ceiling: only the xAPI scopes it names now count (a scope
    // taken from the registration stops working at once), and a token of an app with none
    // reaches nothing, even with an empty `scope` (which 4.2.s6.b2 reads as statements/write
    // and statements/read/mine — our token endpoint writes the granted scopes out instead).
    let registered = tokens::oidc_settings(store, tenant, &row.client_id)
        .await?
        .map(|s| s.xapi_scopes)
        .unwrap_or_default();
    let granted: Vec<&str> = row
        .scopes
        .split(' ')
        .filter(|s| registered.iter().any(|r| r == s))
        .collect();
    let scopes = if granted.is_empty() {
        ScopeSet::default()
    } else {
        ScopeSet::of_token(&granted.join(" "))
    };
    Ok(Authenticated {
        tenant: tenant.clone(),
        authority: json!({
            "objectType": "Agent",
            "name": app.name,
            "account": { "homePage": issuer, "name": row.client_id },
        }),
        key: row.client_id,
        access: Access::Bearer(scopes),
        version_line: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(access: Access) -> Authenticated {
        Authenticated {
            tenant: TenantId::parse("city-a").expect("tenant id"),
            key: "drill".into(),
            access,
            authority: json!({"objectType": "Agent",
                "account": {"homePage": "https://portal.example.jp/t/city-a", "name": "drill"}}),
            version_line: None,
        }
    }

    #[test]
    fn a_read_only_credential_reads_everything_and_writes_nothing() {
        let w = who(Access::Credential { read_only: true });
        assert_eq!(
            w.authorize(Resource::Statements, Operation::Read).ok(),
            Some(StatementReach::All)
        );
        assert!(matches!(
            w.authorize(Resource::State, Operation::Write),
            Err(LrsError::Forbidden(_))
        ));
        assert!(w.may_define());
    }

    #[test]
    fn comm_4_2_s2_read_mine_reaches_the_statements_of_this_authority() {
        let w = who(Access::Bearer(ScopeSet::of_token("statements/read/mine")));
        assert_eq!(
            w.authorize(Resource::Statements, Operation::Read).ok(),
            Some(StatementReach::AuthoredBy(
                "account:https://portal.example.jp/t/city-a|drill".into()
            ))
        );
        assert!(matches!(
            w.authorize(Resource::Statements, Operation::Write),
            Err(LrsError::InsufficientScope {
                needed: "statements/write"
            })
        ));
        assert!(!w.may_define());
    }
}
