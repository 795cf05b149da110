-- The xAPI version line a credential's tool speaks ('1.0.3' or '2.0.0'; NULL = the latest).
-- Used only to answer a request that carries no X-Experience-API-Version header: the 400 says
-- which version the LRS speaks to this tool (Communication 3.3), which differs between the
-- 1.0.3 and 2.0 lines.
ALTER TABLE lrs_credentials ADD COLUMN version_line TEXT;
