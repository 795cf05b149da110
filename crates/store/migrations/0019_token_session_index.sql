-- `oauth_tokens_session` finds the tokens of a portal session (portal logout revokes them,
-- back-channel logout finds their apps). Tokens from client_credentials have no session
-- (`session_hash` NULL) and are most of the tokens a busy LRS client makes: indexing their
-- NULLs only cost every issue one more B-tree insert and one more page written per commit.
-- Every query on the index compares `session_hash = $n`, which both SQLite and PostgreSQL
-- know implies `session_hash IS NOT NULL`, so they keep using it.
DROP INDEX oauth_tokens_session;
CREATE INDEX oauth_tokens_session ON oauth_tokens (tenant_id, session_hash)
    WHERE session_hash IS NOT NULL;
