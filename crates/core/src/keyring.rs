//! The tenants' token signing keys (RS256 and ES256), kept in the database with the private
//! key sealed by the master key, so that every node sharing the database signs with the
//! same keys. Each algorithm always has a `current` key that signs and a `next` key that is
//! already published in the JWKS, so a rotation never hands a relying party a `kid` it could
//! not have fetched beforehand.
//!
//! The master key is also checked against the database on start: a node started with a
//! different `master.key` than the one that set the database up is refused with a message.

use base64::Engine;
use kakehashi_oidc::keys::{KeyState, ManagedKey, RotationPolicy};
use kakehashi_oidc::{Algorithm, JwkSet, KeySet, SigningKey};
use kakehashi_store::keys::{self as stored, KeyRow};
use kakehashi_store::{audit, Store, StoreError, TenantId};
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};

use crate::data_dir::MasterKey;
use crate::{Actor, Clock};

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(
        "this database was set up with a different master key: copy master.key from the data \
         directory of the node that created it into this node's data directory"
    )]
    WrongMasterKey,
    #[error("a sealed key cannot be opened: {0}")]
    Unseal(String),
    #[error("key error: {0}")]
    Key(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

const CHECK_SETTING: &str = "master_key_check";

impl MasterKey {
    /// Seals `plain` (AES-256-GCM, random nonce); `context` is authenticated but not stored,
    /// binding the ciphertext to where it belongs (a row moved elsewhere will not open).
    pub fn seal(&self, plain: &[u8], context: &str) -> Result<String, KeyringError> {
        let mut nonce = [0u8; 12];
        openssl::rand::rand_bytes(&mut nonce).map_err(|e| KeyringError::Key(e.to_string()))?;
        let mut tag = [0u8; 16];
        let ct = encrypt_aead(
            Cipher::aes_256_gcm(),
            self.bytes(),
            Some(&nonce),
            context.as_bytes(),
            plain,
            &mut tag,
        )
        .map_err(|e| KeyringError::Key(e.to_string()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        out.extend_from_slice(&tag);
        Ok(format!(
            "v1.{}",
            base64::engine::general_purpose::STANDARD.encode(out)
        ))
    }

    pub fn unseal(&self, sealed: &str, context: &str) -> Result<Vec<u8>, KeyringError> {
        let bytes = sealed
            .strip_prefix("v1.")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|b| b.len() >= 28)
            .ok_or_else(|| KeyringError::Unseal("not a v1 sealed value".into()))?;
        let (nonce, rest) = bytes.split_at(12);
        let (ct, tag) = rest.split_at(rest.len() - 16);
        decrypt_aead(
            Cipher::aes_256_gcm(),
            self.bytes(),
            Some(nonce),
            context.as_bytes(),
            ct,
            tag,
        )
        .map_err(|_| KeyringError::Unseal(format!("authentication failed ({context})")))
    }

    /// A value that identifies the key without revealing it (HMAC-SHA256 of a fixed label).
    pub fn check_value(&self) -> Result<String, KeyringError> {
        let pkey = openssl::pkey::PKey::hmac(self.bytes())
            .map_err(|e| KeyringError::Key(e.to_string()))?;
        let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &pkey)
            .map_err(|e| KeyringError::Key(e.to_string()))?;
        signer
            .sign_oneshot_to_vec(b"kakehashi master key check v1")
            .map(hex::encode)
            .map_err(|e| KeyringError::Key(e.to_string()))
    }
}

/// Records the master key's check value on first start; refuses a different key afterwards.
pub async fn check_master_key(store: &Store, master: &MasterKey) -> Result<(), KeyringError> {
    let ours = master.check_value()?;
    let in_force = stored::setting_or_insert(store, CHECK_SETTING, &ours).await?;
    if openssl::memcmp::eq(in_force.as_bytes(), ours.as_bytes()) && in_force.len() == ours.len() {
        Ok(())
    } else {
        Err(KeyringError::WrongMasterKey)
    }
}

fn context(tenant: &TenantId, kid: &str) -> String {
    format!("signing-key:{tenant}:{kid}")
}

fn key_err(e: impl std::fmt::Display) -> KeyringError {
    KeyringError::Key(e.to_string())
}

/// A new key row, sealed.
fn new_row(
    master: &MasterKey,
    tenant: &TenantId,
    alg: Algorithm,
    state: &str,
    now: i64,
    at: &str,
) -> Result<KeyRow, KeyringError> {
    let key = SigningKey::generate(alg).map_err(key_err)?;
    let der = key.to_pkcs8_der().map_err(key_err)?;
    let jwk = key.public_jwk().map_err(key_err)?;
    Ok(KeyRow {
        kid: key.kid().to_owned(),
        alg: alg.as_str().to_owned(),
        state: state.to_owned(),
        published_at: now,
        retired_until: None,
        private_key_sealed: master.seal(&der, &context(tenant, key.kid()))?,
        public_jwk: serde_json::to_string(&jwk).map_err(key_err)?,
        created_at: at.to_owned(),
    })
}

/// Makes sure each signing algorithm has a current and a next key (first use of a tenant,
/// or after a rotation consumed the next key). Safe to call from several nodes at once.
pub async fn ensure(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    tenant: &TenantId,
) -> Result<(), KeyringError> {
    let now = clock.now().unix_timestamp();
    // Fast path without a write lock: everything is there.
    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
    let rows = stored::load(&mut conn, tenant).await?;
    drop(conn);
    if complete(&rows) {
        return Ok(());
    }
    // Keys are generated before the write lock is taken and off the async workers: an RSA
    // key takes tens of milliseconds, which inline would stall every request on the worker
    // (and every writer behind the lock) on a tenant's first use. One generation at a time
    // in this process: the requests that arrive meanwhile wait for it and then find the keys
    // (without this, each of them would generate a set of its own and all but one be thrown
    // away, on a core the other requests need).
    static GENERATING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one = GENERATING.lock().await;
    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
    let rows = stored::load(&mut conn, tenant).await?;
    drop(conn);
    let wanted = missing(&rows);
    if wanted.is_empty() {
        return Ok(());
    }
    let at = clock.now_text();
    let mut fresh = {
        let (master, tenant, at) = (master.clone(), tenant.clone(), at.clone());
        tokio::task::spawn_blocking(move || {
            wanted
                .into_iter()
                .map(|(alg, state)| new_row(&master, &tenant, alg, state, now, &at))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| KeyringError::Key(format!("key generation stopped: {e}")))??
    };
    let mut tx = store.begin().await?;
    stored::lock_tenant_keys(&mut tx, store.backend(), tenant).await?;
    // What is missing now (another request or node may have filled some meanwhile).
    let rows = stored::load(&mut tx, tenant).await?;
    for (alg, state) in missing(&rows) {
        let row = match fresh
            .iter()
            .position(|r| r.alg == alg.as_str() && r.state == state)
        {
            Some(i) => fresh.swap_remove(i),
            // A rotation in between used a next key: rare, so made here.
            None => new_row(master, tenant, alg, state, now, &at)?,
        };
        stored::insert(&mut tx, tenant, &row).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// The (algorithm, state) pairs without a key: each algorithm needs a current and a next.
fn missing(rows: &[KeyRow]) -> Vec<(Algorithm, &'static str)> {
    let mut out = Vec::new();
    for alg in Algorithm::SIGN {
        for state in ["current", "next"] {
            if !rows
                .iter()
                .any(|r| r.alg == alg.as_str() && r.state == state)
            {
                out.push((alg, state));
            }
        }
    }
    out
}

fn complete(rows: &[KeyRow]) -> bool {
    missing(rows).is_empty()
}

/// The tenant's JWKS document: next, current and still-published retired keys.
pub async fn jwks(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    tenant: &TenantId,
) -> Result<JwkSet, KeyringError> {
    ensure(store, master, clock, tenant).await?;
    let now = clock.now().unix_timestamp();
    let keys = stored::published_jwks(store, tenant, now)
        .await?
        .iter()
        .map(|j| serde_json::from_str(j).map_err(key_err))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(JwkSet { keys })
}

/// The tenant's keys with their private parts, for signing.
pub async fn key_set(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    tenant: &TenantId,
) -> Result<KeySet, KeyringError> {
    ensure(store, master, clock, tenant).await?;
    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
    let rows = stored::load(&mut conn, tenant).await?;
    let keys = rows
        .iter()
        .map(|r| managed(master, tenant, r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KeySet::new(keys))
}

fn managed(master: &MasterKey, tenant: &TenantId, r: &KeyRow) -> Result<ManagedKey, KeyringError> {
    let der = master.unseal(&r.private_key_sealed, &context(tenant, &r.kid))?;
    let alg = Algorithm::parse(&r.alg).ok_or_else(|| {
        KeyringError::Key(format!("unknown algorithm {:?} for key {}", r.alg, r.kid))
    })?;
    let key = SigningKey::from_pkcs8_der(&der, Some(alg)).map_err(key_err)?;
    let state = match r.state.as_str() {
        "current" => KeyState::Current,
        "next" => KeyState::Next {
            published_at: r.published_at,
        },
        _ => KeyState::Retired {
            until: r.retired_until.unwrap_or(0),
        },
    };
    Ok(ManagedKey { key, state })
}

/// A key as operators see it (no private material).
#[derive(Clone, Debug, serde::Serialize)]
pub struct KeyInfo {
    pub kid: String,
    pub alg: String,
    pub state: String,
    pub published_at: i64,
    pub retired_until: Option<i64>,
}

pub async fn list(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    tenant: &TenantId,
) -> Result<Vec<KeyInfo>, KeyringError> {
    ensure(store, master, clock, tenant).await?;
    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
    Ok(stored::load(&mut conn, tenant)
        .await?
        .into_iter()
        .map(|r| KeyInfo {
            kid: r.kid,
            alg: r.alg,
            state: r.state,
            published_at: r.published_at,
            retired_until: r.retired_until,
        })
        .collect())
}

/// Promotes the next key of `alg` to current (refused until it has been published for
/// `policy.min_next_published` seconds), retires the old one for `policy.retired_published`
/// seconds, and publishes a new next key. Audited.
pub async fn rotate(
    store: &Store,
    master: &MasterKey,
    clock: &dyn Clock,
    actor: &Actor,
    tenant: &TenantId,
    alg: Algorithm,
    policy: RotationPolicy,
) -> Result<String, KeyringError> {
    ensure(store, master, clock, tenant).await?;
    let now = clock.now().unix_timestamp();
    let at = clock.now_text();
    let mut tx = store.begin().await?;
    stored::lock_tenant_keys(&mut tx, store.backend(), tenant).await?;
    let rows = stored::load(&mut tx, tenant).await?;
    let mut set = KeySet::new(
        rows.iter()
            .filter(|r| r.alg == alg.as_str())
            .map(|r| managed(master, tenant, r))
            .collect::<Result<Vec<_>, _>>()?,
    );
    set.rotate(alg, now, policy).map_err(key_err)?;
    let mut promoted = String::new();
    for k in set.keys() {
        let (state, until) = match k.state {
            KeyState::Current => ("current", None),
            KeyState::Next { .. } => ("next", None),
            KeyState::Retired { until } => ("retired", Some(until)),
        };
        if state == "current" {
            promoted = k.key.kid().to_owned();
        }
        stored::set_state(&mut tx, tenant, k.key.kid(), state, until).await?;
    }
    stored::insert(
        &mut tx,
        tenant,
        &new_row(master, tenant, alg, "next", now, &at)?,
    )
    .await?;
    audit::append(
        &mut tx,
        store.backend(),
        Some(tenant),
        &at,
        &audit::Event {
            actor: actor.0.clone(),
            action: "keys.rotate".into(),
            target: format!("key:{promoted}"),
            details: serde_json::json!({ "alg": alg.as_str() }),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(promoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> MasterKey {
        MasterKey::from_bytes([b; 32])
    }

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let sealed = key(1).seal(b"secret der", "signing-key:a:k1").unwrap();
        assert_eq!(
            key(1).unseal(&sealed, "signing-key:a:k1").unwrap(),
            b"secret der"
        );
        assert!(key(2).unseal(&sealed, "signing-key:a:k1").is_err());
        assert!(
            key(1).unseal(&sealed, "signing-key:b:k1").is_err(),
            "bound to its row"
        );
        assert_ne!(
            sealed,
            key(1).seal(b"secret der", "signing-key:a:k1").unwrap(),
            "fresh nonce"
        );
    }

    #[test]
    fn check_values_differ_per_key() {
        assert_eq!(key(1).check_value().unwrap(), key(1).check_value().unwrap());
        assert_ne!(key(1).check_value().unwrap(), key(2).check_value().unwrap());
    }
}
