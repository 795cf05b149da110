-- The xAPI scopes (Communication 4.2.s2) an app may be granted by the client_credentials
-- grant, as a JSON list; none by default: a tool reaches the tenant's LRS only with the
-- scopes its registration names (`app add --xapi-scopes`).
ALTER TABLE apps ADD COLUMN xapi_scopes TEXT NOT NULL DEFAULT '[]';
