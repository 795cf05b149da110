-- The LTI 1.3 platform: registered tools (each an app of protocol 'lti' in the catalog),
-- their deployments, pending launches, the nonce replay cache, deep-linked resource links,
-- and the Assignment and Grade Services' line items and scores. Portable SQL (see 0001):
-- BIGINT integers (unix seconds for protocol instants), RFC 3339 UTC text for audit-style
-- instants, JSON and decimal numbers as text.

-- One row per LTI tool; `app_id` is the app (and OAuth client_id) in `apps`. The tool's
-- public keys come from `jwks_url` or are held here (`public_jwks`).
CREATE TABLE lti_tools (
    tenant_id         TEXT NOT NULL REFERENCES tenants(id),
    app_id            TEXT NOT NULL,
    login_url         TEXT NOT NULL,
    launch_url        TEXT NOT NULL,
    deep_linking_url  TEXT,
    jwks_url          TEXT,
    public_jwks       TEXT,
    send_name         BIGINT NOT NULL,
    send_email        BIGINT NOT NULL,
    custom            TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, app_id)
);

-- Deployments (LTI Core 1.3 §3.1.3): one per tenant by default, or one per school
-- (`school_sourced_id`, e.g. per 学校コード).
CREATE TABLE lti_deployments (
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    deployment_id      TEXT NOT NULL,
    app_id             TEXT NOT NULL,
    school_sourced_id  TEXT,
    created_at         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, deployment_id)
);
CREATE INDEX lti_deployments_app ON lti_deployments (tenant_id, app_id);

-- A launch the platform started (login initiation sent), until the tool's authentication
-- request comes back with its `lti_message_hint` (stored as SHA-256 hex). Used once
-- (`consumed_at`); a deep linking request's response is taken once too (`returned_at`).
CREATE TABLE lti_launches (
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    hint_hash          TEXT NOT NULL,
    app_id             TEXT NOT NULL,
    deployment_id      TEXT NOT NULL,
    user_sourced_id    TEXT NOT NULL,
    message_type       TEXT NOT NULL,
    class_sourced_id   TEXT,
    resource_link_id   TEXT,
    target_link_uri    TEXT NOT NULL,
    expires_at         BIGINT NOT NULL,
    consumed_at        BIGINT,
    returned_at        BIGINT,
    PRIMARY KEY (tenant_id, hint_hash)
);
CREATE INDEX lti_launches_expiry ON lti_launches (tenant_id, expires_at);

-- Nonces seen per tool (authentication requests, deep linking responses): a nonce is
-- used once (OIDC Core 3.1.2.1; Security Framework 5.1.3 step 9), across every node.
CREATE TABLE lti_nonces (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    app_id      TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, app_id, nonce)
);

-- Resource links placed in a class (by Deep Linking), launchable by its members.
CREATE TABLE lti_resource_links (
    tenant_id         TEXT NOT NULL REFERENCES tenants(id),
    id                TEXT NOT NULL,
    app_id            TEXT NOT NULL,
    deployment_id     TEXT NOT NULL,
    class_sourced_id  TEXT NOT NULL,
    title             TEXT NOT NULL,
    description       TEXT,
    url               TEXT,
    custom            TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX lti_resource_links_class ON lti_resource_links (tenant_id, class_sourced_id);

-- AGS 2.0 line items of a class, owned by the tool that made them.
CREATE TABLE lti_line_items (
    tenant_id         TEXT NOT NULL REFERENCES tenants(id),
    id                TEXT NOT NULL,
    app_id            TEXT NOT NULL,
    class_sourced_id  TEXT NOT NULL,
    label             TEXT NOT NULL,
    score_maximum     TEXT NOT NULL,
    resource_id       TEXT,
    tag               TEXT,
    resource_link_id  TEXT,
    start_date_time   TEXT,
    end_date_time     TEXT,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX lti_line_items_class ON lti_line_items (tenant_id, app_id, class_sourced_id);

-- The latest score of each user on a line item (AGS 2.0 §3.4: a newer timestamp replaces).
CREATE TABLE lti_scores (
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    line_item_id       TEXT NOT NULL,
    user_sourced_id    TEXT NOT NULL,
    user_id            TEXT NOT NULL,
    score_given        TEXT,
    score_maximum      TEXT,
    comment            TEXT,
    activity_progress  TEXT NOT NULL,
    grading_progress   TEXT NOT NULL,
    timestamp          TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, line_item_id, user_sourced_id)
);

-- One-time tokens of LTI Dynamic Registration 1.0 (§3.3): an administrator starts a
-- registration (`kakehashi lti tool register`), the tool presents the token (stored as
-- SHA-256 hex) once at the registration endpoint before it expires.
CREATE TABLE lti_registration_tokens (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    token_hash   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, token_hash)
);
