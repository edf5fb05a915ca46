-- The scheduler's claims and its list of clients with contacts due read only the rows they may
-- take (docs/http.md §9.5; issue 13: draining 100,000 contacts of 100 clients starved the event
-- loop, each per-client claim walking every contact waiting through outbound_contacts_due):
--   outbound_contacts_stage_due  one stage's contacts waiting, oldest due first (claims of a stage)
--   outbound_contacts_client_due one client's contacts waiting, oldest due first (paced claims; the
--                                clients with contacts waiting, found by a skip scan)
--   outbound_contacts_leased     one client's calls being dialled (its calls in flight)
CREATE INDEX outbound_contacts_stage_due ON outbound_contacts (stage, due_at) WHERE status = 'scheduled';
CREATE INDEX outbound_contacts_client_due ON outbound_contacts (stage, client_id, due_at) WHERE status = 'scheduled';
CREATE INDEX outbound_contacts_leased ON outbound_contacts (stage, client_id, lease_until) WHERE status = 'scheduled' AND lease_until IS NOT NULL;
-- Dropped: outbound_contacts_client (stage, client_id, status), which counted calls in flight by
-- reading all of a client's contacts waiting; outbound_contacts_leased replaces it.
DROP INDEX outbound_contacts_client;
