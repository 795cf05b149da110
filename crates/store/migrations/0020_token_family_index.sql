-- `oauth_tokens_family` finds the tokens of one grant (a code's tokens and every rotation of
-- its refresh token) to revoke them together: a replayed code, a reused or revoked refresh
-- token (RFC 9700 4.14.2, RFC 7009 2.1). Only grants for a user have such families. Tokens
-- issued to a client for itself (client_credentials, LTI Advantage service tokens) have no
-- refresh token and no user; their family ids were still indexed, and as those ids are unique
-- (`cc-{second}-{random}`) a busy client's tokens landed on random pages of the index,
-- a page written per token at every commit. The index now holds user tokens only, and
-- `revoke_family` asks for `user_sourced_id IS NOT NULL`, the index's own condition, so both
-- SQLite and PostgreSQL keep using it.
DROP INDEX oauth_tokens_family;
CREATE INDEX oauth_tokens_family ON oauth_tokens (tenant_id, family_id)
    WHERE user_sourced_id IS NOT NULL;
