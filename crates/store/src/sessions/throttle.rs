//! Failed-login counters (table `login_throttle`), shared by every node.
//!
//! A counter is a number of failures inside a window that starts with the first failure; a
//! failure after the window has passed starts a new window at 1. The increment is one
//! `INSERT … ON CONFLICT … RETURNING` statement, so two nodes counting at once never lose a
//! failure. Policy (what the numbers mean) lives in `kakehashi_core::portal::throttle`.

use sqlx::{AnyConnection, Row};

use crate::{Result, Store, TenantId};

/// What a counter counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One username, from any address.
    Account,
    /// One username from one address.
    Pair,
    /// One address, any username.
    Ip,
    /// Second-factor codes (TOTP, backup codes) typed by one user (subject: the sourcedId).
    Code,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Account => "account",
            Scope::Pair => "pair",
            Scope::Ip => "ip",
            Scope::Code => "code",
        }
    }
}

/// A counter as stored.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Counter {
    pub failures: i64,
    pub window_start: String,
    pub last_failure_at: String,
    pub locked_at: Option<String>,
}

/// `head WHERE tenant_id = $1 AND ((scope = $2 AND subject = $3) OR …)` for `n` pairs.
fn for_keys(head: &str, n: usize) -> String {
    let pairs: Vec<String> = (0..n)
        .map(|i| format!("(scope = ${} AND subject = ${})", 2 + 2 * i, 3 + 2 * i))
        .collect();
    format!("{head} WHERE tenant_id = $1 AND ({})", pairs.join(" OR "))
}

fn bind_keys<'q, const N: usize>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    tenant: &'q TenantId,
    keys: [(Scope, &'q str); N],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q = q.bind(tenant.as_str());
    for (scope, subject) in keys {
        q = q.bind(scope.as_str()).bind(subject);
    }
    q
}

/// The counters of several (scope, subject) pairs in one query, in the order asked (`None`
/// where there is none).
pub async fn get_many<const N: usize>(
    store: &Store,
    tenant: &TenantId,
    keys: [(Scope, &str); N],
) -> Result<[Option<Counter>; N]> {
    let sql = for_keys(
        "SELECT scope, subject, failures, window_start, last_failure_at, locked_at
         FROM login_throttle",
        N,
    );
    let q = bind_keys(sqlx::query(&sql), tenant, keys);
    let rows = q.fetch_all(store.pool()).await?;
    let mut out: [Option<Counter>; N] = std::array::from_fn(|_| None);
    for r in rows {
        let (scope, subject): (String, String) = (r.try_get("scope")?, r.try_get("subject")?);
        let counter = Counter {
            failures: r.try_get("failures")?,
            window_start: r.try_get("window_start")?,
            last_failure_at: r.try_get("last_failure_at")?,
            locked_at: r.try_get("locked_at")?,
        };
        for (i, (s, sub)) in keys.iter().enumerate() {
            if s.as_str() == scope && *sub == subject {
                out[i] = Some(counter.clone());
            }
        }
    }
    Ok(out)
}

/// The counter, if any (callers judge whether its window is still open).
pub async fn get(
    store: &Store,
    tenant: &TenantId,
    scope: Scope,
    subject: &str,
) -> Result<Option<Counter>> {
    let [c] = get_many(store, tenant, [(scope, subject)]).await?;
    Ok(c)
}

/// Counts one failure at `now`; a window that started before `window_cutoff` restarts at 1.
/// Returns the failures in the (possibly new) window.
pub async fn record_failure(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    scope: Scope,
    subject: &str,
    now: &str,
    window_cutoff: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO login_throttle (tenant_id, scope, subject, failures, window_start,
            last_failure_at, locked_at)
         VALUES ($1, $2, $3, 1, $4, $4, NULL)
         ON CONFLICT (tenant_id, scope, subject) DO UPDATE SET
            failures = CASE WHEN login_throttle.window_start < $5 AND login_throttle.locked_at IS NULL
                            THEN 1 ELSE login_throttle.failures + 1 END,
            window_start = CASE WHEN login_throttle.window_start < $5 AND login_throttle.locked_at IS NULL
                                THEN $4 ELSE login_throttle.window_start END,
            last_failure_at = $4
         RETURNING failures",
    )
    .bind(tenant.as_str())
    .bind(scope.as_str())
    .bind(subject)
    .bind(now)
    .bind(window_cutoff)
    .fetch_one(&mut *conn)
    .await?)
}

/// Marks a counter locked (a pupil's pair that reached the threshold).
pub async fn lock(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    scope: Scope,
    subject: &str,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE login_throttle SET locked_at = $1
         WHERE tenant_id = $2 AND scope = $3 AND subject = $4",
    )
    .bind(at)
    .bind(tenant.as_str())
    .bind(scope.as_str())
    .bind(subject)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets the counters of several (scope, subject) pairs (a successful login clears its pair
/// and account counters) in one statement.
pub async fn clear<const N: usize>(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    keys: [(Scope, &str); N],
) -> Result<()> {
    let sql = for_keys("DELETE FROM login_throttle", N);
    let q = bind_keys(sqlx::query(&sql), tenant, keys);
    q.execute(&mut *conn).await?;
    Ok(())
}

/// Forgets every account and pair counter of a username (a teacher lifting a lockout).
/// Returns how many of them were locked.
pub async fn clear_user(
    conn: &mut AnyConnection,
    tenant: &TenantId,
    username: &str,
) -> Result<i64> {
    // A prefix match by SUBSTR, not LIKE: usernames may hold `_` and `%`.
    let pair_prefix = format!("{username}\u{1f}");
    let prefix_chars = pair_prefix.chars().count() as i64;
    let locked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_throttle WHERE tenant_id = $1 AND locked_at IS NOT NULL
           AND ((scope = 'account' AND subject = $2) OR (scope = 'pair' AND SUBSTR(subject, 1, CAST($4 AS INTEGER)) = $3))",
    )
    .bind(tenant.as_str())
    .bind(username)
    .bind(&pair_prefix)
    .bind(prefix_chars)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM login_throttle WHERE tenant_id = $1
           AND ((scope = 'account' AND subject = $2) OR (scope = 'pair' AND SUBSTR(subject, 1, CAST($4 AS INTEGER)) = $3))",
    )
    .bind(tenant.as_str())
    .bind(username)
    .bind(&pair_prefix)
    .bind(prefix_chars)
    .execute(&mut *conn)
    .await?;
    Ok(locked)
}

/// The subject of a pair counter: username and address joined by a unit separator (which
/// neither can contain), so that [`clear_user`] finds every pair of a username by prefix.
pub fn pair_subject(username: &str, ip: &str) -> String {
    format!("{username}\u{1f}{ip}")
}
