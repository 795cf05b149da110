//! Schema migrations: an ordered list of portable SQL files, applied once each and recorded
//! in `schema_migrations`. On PostgreSQL a session advisory lock makes nodes that start at the
//! same moment take turns.

use crate::{Backend, Result, Store, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sql: include_str!("../migrations/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "lrs",
        sql: include_str!("../migrations/0002_lrs.sql"),
    },
    Migration {
        version: 3,
        name: "identity",
        sql: include_str!("../migrations/0003_identity.sql"),
    },
    Migration {
        version: 4,
        name: "keys",
        sql: include_str!("../migrations/0004_keys.sql"),
    },
    Migration {
        version: 5,
        name: "portal",
        sql: include_str!("../migrations/0005_portal.sql"),
    },
    Migration {
        version: 6,
        name: "oauth",
        sql: include_str!("../migrations/0006_oauth.sql"),
    },
    Migration {
        version: 7,
        name: "saml",
        sql: include_str!("../migrations/0007_saml.sql"),
    },
    Migration {
        version: 8,
        name: "lrs_version_line",
        sql: include_str!("../migrations/0008_lrs_version_line.sql"),
    },
    Migration {
        version: 9,
        name: "lti",
        sql: include_str!("../migrations/0009_lti.sql"),
    },
    Migration {
        version: 10,
        name: "mfa",
        sql: include_str!("../migrations/0010_mfa.sql"),
    },
    Migration {
        version: 11,
        name: "console",
        sql: include_str!("../migrations/0011_console.sql"),
    },
    Migration {
        version: 12,
        name: "app_xapi_scopes",
        sql: include_str!("../migrations/0012_app_xapi_scopes.sql"),
    },
    Migration {
        version: 13,
        name: "saml_logout",
        sql: include_str!("../migrations/0013_saml_logout.sql"),
    },
    Migration {
        version: 14,
        name: "people_search",
        sql: include_str!("../migrations/0014_people_search.sql"),
    },
    Migration {
        version: 15,
        name: "backchannel_logout",
        sql: include_str!("../migrations/0015_backchannel_logout.sql"),
    },
    Migration {
        version: 16,
        name: "known_device_agent",
        sql: include_str!("../migrations/0016_known_device_agent.sql"),
    },
    Migration {
        version: 18,
        name: "session_end",
        sql: include_str!("../migrations/0018_session_end.sql"),
    },
    Migration {
        version: 19,
        name: "token_session_index",
        sql: include_str!("../migrations/0019_token_session_index.sql"),
    },
    Migration {
        version: 20,
        name: "token_family_index",
        sql: include_str!("../migrations/0020_token_family_index.sql"),
    },
];

const LOCK_KEY: i64 = 0x6b61_6b65_6861; // "kakeha"

pub(crate) async fn run(store: &Store) -> Result<()> {
    let mut conn = store.pool().acquire().await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)::text")
            .bind(LOCK_KEY)
            .fetch_one(&mut *conn)
            .await?;
    }
    let result = apply_pending(store, &mut conn).await;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)::text")
            .bind(LOCK_KEY)
            .fetch_one(&mut *conn)
            .await?;
    }
    result
}

async fn apply_pending(store: &Store, conn: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?;
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some(&unknown) = applied
        .iter()
        .find(|v| !MIGRATIONS.iter().any(|m| m.version == **v))
    {
        return Err(StoreError::SchemaTooNew {
            found: unknown,
            known,
        });
    }
    // Every known migration not yet recorded, in order (not just those above the highest one:
    // migrations written on parallel branches may land out of order).
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let mut tx = store.begin().await?;
        let outcome = async {
            sqlx::raw_sql(m.sql).execute(&mut **tx).await?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(crate::now_rfc3339())
            .execute(&mut **tx)
            .await?;
            tx.commit().await
        }
        .await;
        outcome.map_err(|source| StoreError::Migration {
            version: m.version,
            name: m.name,
            source,
        })?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}
