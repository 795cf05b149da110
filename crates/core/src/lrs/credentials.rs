//! LRS credentials: HTTP Basic key/secret pairs a learning tool uses (Communication 4.1),
//! scoped to one tenant. Secrets are random (256 bits) and stored as SHA-256 only; adding
//! and removing a credential is audited in the same transaction.

use kakehashi_store::lrs::credentials as db;
use kakehashi_store::lrs::Credential;
use kakehashi_store::{audit, Store, StoreError, TenantId};
use kakehashi_xapi::Version;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::access::{Access, Authenticated};
use super::LrsError;
use crate::{Actor, Clock};

/// A credential just created: the only time the secret is known.
#[derive(Clone, serde::Serialize)]
pub struct NewCredential {
    pub key: String,
    pub secret: String,
    pub name: String,
    pub read_only: bool,
    /// The xAPI line the tool speaks (see [`add`]); `None` = the latest.
    #[serde(skip)]
    pub version_line: Option<Version>,
}

impl std::fmt::Debug for NewCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCredential")
            .field("key", &self.key)
            .field("secret", &"***")
            .finish()
    }
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random_hex(bytes: usize) -> Result<String, LrsError> {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf)
        .map_err(|e| LrsError::Unauthorized(format!("no randomness available: {e}")))?;
    Ok(hex::encode(buf))
}

/// Creates a credential for `tenant` (which must exist) and audits it.
///
/// `version_line` (`1.0.3` or `2.0.0` lines) says which xAPI version the tool speaks. It only
/// matters for a request without an `X-Experience-API-Version` header, which is refused with
/// 400 (Communication 3.3.s3.b7) and whose response header then names the tool's line instead
/// of the LRS's latest: the 1.0.3 and 2.0 lines expect different answers to that request.
pub async fn add(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    name: &str,
    read_only: bool,
    version_line: Option<Version>,
) -> Result<NewCredential, LrsError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(LrsError::EmptyName);
    }
    crate::tenants::require(store, tenant)
        .await
        .map_err(|e| LrsError::NotFound(e.to_string()))?;
    let key = random_hex(10)?;
    let secret = random_hex(32)?;
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    db::insert(
        &mut tx,
        &Credential {
            tenant: tenant.clone(),
            key: key.clone(),
            secret_hash: hash(&secret),
            name: name.to_owned(),
            read_only,
            created_at: at.clone(),
            version_line: version_line.map(|v| v.response_header().to_owned()),
        },
    )
    .await?;
    let event = audit::Event {
        actor: actor.0.clone(),
        action: "lrs.credential.add".into(),
        target: format!("lrs-credential:{key}"),
        details: json!({
            "name": name,
            "read_only": read_only,
            "version_line": version_line.map(Version::response_header),
        }),
    };
    audit::append(&mut tx, store.backend(), Some(tenant), &at, &event).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(NewCredential {
        key,
        secret,
        name: name.to_owned(),
        read_only,
        version_line,
    })
}

/// The tenant's credentials (without secrets).
pub async fn list(store: &Store, tenant: &TenantId) -> Result<Vec<Credential>, LrsError> {
    Ok(db::list(store, tenant).await?)
}

/// Removes a credential and audits it; [`LrsError::NotFound`] when there is none.
pub async fn remove(
    store: &Store,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    key: &str,
) -> Result<(), LrsError> {
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    if !db::remove(&mut tx, tenant, key).await? {
        return Err(LrsError::NotFound(format!(
            "tenant {tenant} has no LRS credential {key:?}"
        )));
    }
    let event = audit::Event {
        actor: actor.0.clone(),
        action: "lrs.credential.remove".into(),
        target: format!("lrs-credential:{key}"),
        details: json!({}),
    };
    audit::append(&mut tx, store.backend(), Some(tenant), &at, &event).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Checks an HTTP Basic key/secret against `tenant`'s credentials. A credential of another
/// tenant is unknown here (401): the tenant is part of the lookup.
pub async fn authenticate(
    store: &Store,
    tenant: &TenantId,
    key: &str,
    secret: &str,
    home_page: &str,
) -> Result<Authenticated, LrsError> {
    let cred = db::get(store, tenant, key)
        .await?
        .ok_or_else(|| LrsError::Unauthorized("unknown key or wrong secret".into()))?;
    // Constant-time comparison of the two digests.
    let given = hash(secret);
    let same = given.len() == cred.secret_hash.len()
        && given
            .bytes()
            .zip(cred.secret_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(LrsError::Unauthorized("unknown key or wrong secret".into()));
    }
    Ok(Authenticated {
        tenant: tenant.clone(),
        authority: json!({
            "objectType": "Agent",
            "name": cred.name,
            "account": { "homePage": home_page, "name": cred.key },
        }),
        key: cred.key,
        access: Access::Credential {
            read_only: cred.read_only,
        },
        version_line: cred
            .version_line
            .as_deref()
            .and_then(|v| Version::parse_header(v).ok()),
    })
}
