-- The web console and the admin REST API (docs/CONSOLE.md). Portable SQL (see 0001).

-- Console roles given explicitly, on top of what the roster says (a teacher teaches their
-- classes, a pupil is themselves). `subject` is `user:SOURCEDID` (a person of the tenant
-- signing in to the console) or `client:APP_ID` (an OAuth client calling the admin API with
-- client_credentials). `role` is `tenant-admin` (the whole board of education) or
-- `school-admin` (one school: `school_sourced_id`, '' for a tenant-wide role).
CREATE TABLE admin_grants (
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    subject            TEXT NOT NULL,
    role               TEXT NOT NULL,
    school_sourced_id  TEXT NOT NULL,
    granted_at         TEXT NOT NULL,
    granted_by         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, subject, role, school_sourced_id)
);

-- People search by the start of a name, its kana or the username (console and API): each
-- column a range scan of its own index, so a search reads only the matching rows at 500,000
-- users (bench/console). The username is already indexed by users_username.
CREATE INDEX users_family_name ON users (tenant_id, family_name);
CREATE INDEX users_given_name ON users (tenant_id, given_name);
CREATE INDEX users_kana_family_name ON users (tenant_id, kana_family_name);
CREATE INDEX users_kana_given_name ON users (tenant_id, kana_given_name);

-- Who is in a school (a school admin's reach) without reading every membership.
CREATE INDEX memberships_school ON memberships (tenant_id, school_sourced_id, user_sourced_id);

-- "Who viewed or changed this person" and a pupil's last sign-in: the audit rows of one
-- target, newest first.
CREATE INDEX audit_log_target ON audit_log (chain, target, seq);

-- A roster package uploaded in the console, between its preview and "apply" (any node may
-- serve the second request). `report` is the validation report (JSON) for the CSV download;
-- `package` the zip as base64, kept only while it may still be applied. Rows older than a
-- day are removed at the next upload.
CREATE TABLE console_uploads (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    id          TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    report      TEXT NOT NULL,
    summary     TEXT,
    package     TEXT,
    PRIMARY KEY (tenant_id, id)
);

-- QR sign-in cards: one live card per pupil, printed by their teacher. Only the SHA-256 of
-- the card's token is stored; issuing a new card replaces the old one (which stops working),
-- removing the row revokes it.
CREATE TABLE sign_in_cards (
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    user_sourced_id  TEXT NOT NULL,
    token_hash       TEXT NOT NULL,
    issued_at        TEXT NOT NULL,
    issued_by        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_sourced_id)
);
CREATE UNIQUE INDEX sign_in_cards_token ON sign_in_cards (tenant_id, token_hash);
