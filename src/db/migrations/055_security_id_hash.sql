-- docs/http.md §7.4: a client's securityID is stored only as its SHA-256 (64 hex digits).
-- Rows written before are converted in place; `sha256_hex` is registered on the connection by
-- src/db/open.ts with the same digest as src/outbound/securityId.ts.
UPDATE outbound_clients SET security_id = sha256_hex(security_id);
ALTER TABLE outbound_clients RENAME COLUMN security_id TO security_id_sha256;
