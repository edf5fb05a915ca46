-- PostgreSQL twin of migrations/055_security_id_hash.sql (docs/http.md §7.4): the securityID is
-- kept only as its SHA-256 (64 lowercase hex digits), the same digest as src/outbound/securityId.ts.
UPDATE outbound_clients SET security_id = encode(sha256(convert_to(security_id, 'UTF8')), 'hex');
ALTER TABLE outbound_clients RENAME COLUMN security_id TO security_id_sha256;
