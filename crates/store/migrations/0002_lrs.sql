-- The xAPI learning record store (xAPI 1.0.3 / 2.0). Portable SQL, same conventions as
-- 0001: BIGINT integers and 0/1 flags, RFC 3339 UTC text instants (millisecond precision,
-- sorting lexicographically), JSON and base64 bytes as TEXT. Every key starts with the tenant.

-- HTTP Basic credentials of learning tools. `secret_hash` is the SHA-256 (hex) of the random
-- secret; the secret itself is shown once, when the credential is created.
CREATE TABLE lrs_credentials (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    api_key      TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    name         TEXT NOT NULL,
    read_only    BIGINT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, api_key)
);

-- The next statement sequence number of each tenant. Taking it (UPDATE … RETURNING) also
-- serialises a tenant's statement writers, so `seq` order is commit order and `stored` order.
CREATE TABLE xapi_counters (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants(id),
    next_seq   BIGINT NOT NULL
);

-- Statements as stored (the JSON the LRS returns with format=exact), with the columns the
-- single-statement lookups need. `seq` gives stable paging; `voided` = 1 once a voiding
-- statement targeting this one has been stored (Data 2.3.2).
CREATE TABLE xapi_statements (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    seq          BIGINT NOT NULL,
    id           TEXT NOT NULL,
    body         TEXT NOT NULL,
    actor        TEXT,
    verb_id      TEXT NOT NULL,
    activity_id  TEXT,
    registration TEXT,
    voided       BIGINT NOT NULL,
    voids        TEXT,
    stored       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE UNIQUE INDEX xapi_statements_id ON xapi_statements (tenant_id, id);
CREATE INDEX xapi_statements_stored ON xapi_statements (tenant_id, stored, seq);

-- The filter keys of each statement (Communication 2.1.3), one row per (kind, value):
--   a = agent (actor/object IFI key), ra = related agent, v = verb, o = object activity,
--   ro = related activity, r = registration.
-- A statement whose object is a StatementRef also carries its target's keys, so that it
-- meets the filters its target meets (Communication 2.1.4, Filter Conditions for
-- StatementRefs). A query drives from (tenant, kind, value, seq) in `seq` order.
CREATE TABLE xapi_statement_keys (
    tenant_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind, value, seq)
);

-- The canonical definition of each Activity, merged from the statements that carry one
-- (Communication 2.5, Activities resource; format=canonical).
CREATE TABLE xapi_activities (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    id          TEXT NOT NULL,
    definition  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- State (kind 'state'), Activity Profile ('activity_profile') and Agent Profile
-- ('agent_profile') documents (Communication 2.3, 2.6, 2.7). Absent keys are ''.
CREATE TABLE xapi_documents (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    kind          TEXT NOT NULL,
    activity_id   TEXT NOT NULL,
    agent         TEXT NOT NULL,
    registration  TEXT NOT NULL,
    doc_id        TEXT NOT NULL,
    content       TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    etag          TEXT NOT NULL,
    updated       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kind, activity_id, agent, registration, doc_id)
);
CREATE INDEX xapi_documents_updated ON xapi_documents (tenant_id, kind, activity_id, agent, updated);

-- Attachment bodies sent in multipart statement requests, by SHA-2 (Data 2.4.11).
CREATE TABLE xapi_attachments (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    sha2          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    content       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sha2)
);
