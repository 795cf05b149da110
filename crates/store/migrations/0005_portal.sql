-- The portal: login sessions, login throttling and per-tenant session policy. Portable SQL
-- (see 0001): BIGINT integers, RFC 3339 UTC text instants, JSON as text.

-- One row per portal session. The cookie holds a random 256-bit token; only its SHA-256 is
-- stored, so a copy of the database cannot be replayed as cookies (OWASP Session Management
-- Cheat Sheet). Every node reads the same rows, so a session works behind a load balancer.
CREATE TABLE portal_sessions (
    id_hash           TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants(id),
    user_sourced_id   TEXT NOT NULL,
    role              TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    last_seen_at      TEXT NOT NULL,
    auth_time         TEXT NOT NULL,
    idle_timeout_secs BIGINT NOT NULL,
    expires_at        TEXT NOT NULL,
    amr               TEXT NOT NULL,
    acr               TEXT NOT NULL,
    csrf_secret       TEXT NOT NULL,
    user_agent        TEXT NOT NULL,
    ip                TEXT NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions (tenant_id, user_sourced_id);
CREATE INDEX portal_sessions_expiry ON portal_sessions (tenant_id, expires_at);

-- Per-tenant portal policy; a tenant without a row uses the defaults in
-- kakehashi_core::portal::policy (documented in docs/PORTAL.md).
CREATE TABLE tenant_settings (
    tenant_id                TEXT PRIMARY KEY REFERENCES tenants(id),
    staff_idle_secs          BIGINT NOT NULL,
    staff_absolute_secs      BIGINT NOT NULL,
    pupil_idle_secs          BIGINT NOT NULL,
    pupil_absolute_secs      BIGINT NOT NULL,
    pupil_lockout_threshold  BIGINT NOT NULL,
    updated_at               TEXT NOT NULL
);

-- Failed-login counters, shared by every node. `scope` is 'account' (a username across all
-- addresses), 'pair' (a username from one address) or 'ip' (one address, any username).
-- `locked_at` is set on a pupil's pair when it reaches the lockout threshold.
CREATE TABLE login_throttle (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    scope            TEXT NOT NULL,
    subject          TEXT NOT NULL,
    failures         BIGINT NOT NULL,
    window_start     TEXT NOT NULL,
    last_failure_at  TEXT NOT NULL,
    locked_at        TEXT,
    PRIMARY KEY (tenant_id, scope, subject)
);

-- Server-wide secrets of the portal (the HMAC key of pre-login CSRF tokens), created on first
-- use and shared by every node.
CREATE TABLE portal_secrets (
    name        TEXT PRIMARY KEY,
    secret      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
