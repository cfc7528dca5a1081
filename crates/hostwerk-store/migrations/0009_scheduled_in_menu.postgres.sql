-- The customer menu shows what is scheduled on a contract (tariff changes) and the domains a customer
-- requested that are not set up yet (domain orders): changes to both count up customers.data_version, as in
-- migration 8, so a kept dashboard is rendered anew. A pending domain order's name is unique (two customers
-- cannot request the same domain at once), and a domain order records why it was rejected.
-- PostgreSQL spelling; the SQLite one is 0009_scheduled_in_menu.sqlite.sql.
ALTER TABLE domain_orders ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE domain_orders ADD COLUMN decided_at BIGINT;
CREATE UNIQUE INDEX domain_orders_pending_name ON domain_orders (name) WHERE status = 'pending';

CREATE TRIGGER tariff_changes_data_version AFTER INSERT OR UPDATE OR DELETE ON tariff_changes
    FOR EACH ROW EXECUTE FUNCTION hostwerk_customer_data_changed();
CREATE TRIGGER domain_orders_data_version AFTER INSERT OR UPDATE OR DELETE ON domain_orders
    FOR EACH ROW EXECUTE FUNCTION hostwerk_customer_data_changed();
