-- Kakehashi foundation schema. Portable SQL: the same file runs on SQLite and PostgreSQL.
-- Conventions: integers are BIGINT, flags are BIGINT 0/1, instants are TEXT in RFC 3339 UTC
-- with millisecond precision (sorts lexicographically), JSON is TEXT.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- Every OneRoster row a tenant holds, as exchanged: the columns of the CSV row are kept in
-- `fields` (a JSON array of [header, value] pairs, password removed) so that an export gives
-- back what was imported. `active = 0` marks a row that disappeared from a bulk file or was
-- sent as `tobedeleted`: rows are deactivated, never deleted.
CREATE TABLE roster_records (
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    entity              TEXT NOT NULL,
    sourced_id          TEXT NOT NULL,
    status              TEXT,
    date_last_modified  TEXT,
    fields              TEXT NOT NULL,
    active              BIGINT NOT NULL,
    position            BIGINT NOT NULL,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, entity, sourced_id)
);
CREATE INDEX roster_records_export ON roster_records (tenant_id, entity, active, position);

-- The people the portal authenticates and shows, projected from users.csv.
CREATE TABLE users (
    tenant_id               TEXT NOT NULL REFERENCES tenants(id),
    sourced_id              TEXT NOT NULL,
    username                TEXT NOT NULL,
    user_master_identifier  TEXT,
    given_name              TEXT NOT NULL,
    family_name             TEXT NOT NULL,
    kana_given_name         TEXT,
    kana_family_name        TEXT,
    role                    TEXT NOT NULL,
    email                   TEXT,
    enabled                 BIGINT NOT NULL,
    active                  BIGINT NOT NULL,
    updated_at              TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sourced_id)
);
CREATE UNIQUE INDEX users_username ON users (tenant_id, username) WHERE active = 1;
CREATE INDEX users_master_identifier ON users (tenant_id, user_master_identifier);

-- Who belongs to which class (and so to which school), projected from enrollments.csv.
CREATE TABLE memberships (
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    enrollment_id       TEXT NOT NULL,
    user_sourced_id     TEXT NOT NULL,
    class_sourced_id    TEXT NOT NULL,
    school_sourced_id   TEXT NOT NULL,
    role                TEXT NOT NULL,
    active              BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, enrollment_id)
);
CREATE INDEX memberships_user ON memberships (tenant_id, user_sourced_id);
CREATE INDEX memberships_class ON memberships (tenant_id, class_sourced_id);

-- The audit log: one hash chain per tenant (chain '' holds platform events). Each row commits
-- to the previous row's hash; audit_heads remembers the last row so that a removed tail is
-- detected too. Rows are only ever inserted.
CREATE TABLE audit_log (
    chain       TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE TABLE audit_heads (
    chain   TEXT PRIMARY KEY,
    seq     BIGINT NOT NULL,
    hash    TEXT NOT NULL
);

-- Import history, for the console and for operators.
CREATE TABLE roster_imports (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    source      TEXT NOT NULL,
    summary     TEXT NOT NULL
);
CREATE INDEX roster_imports_tenant ON roster_imports (tenant_id, at);
