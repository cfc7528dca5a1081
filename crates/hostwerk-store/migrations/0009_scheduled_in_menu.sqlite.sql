-- The customer menu shows what is scheduled on a contract (tariff changes) and the domains a customer
-- requested that are not set up yet (domain orders): changes to both count up customers.data_version, as in
-- migration 8, so a kept dashboard is rendered anew. A pending domain order's name is unique (two customers
-- cannot request the same domain at once), and a domain order records why it was rejected.
-- SQLite spelling; the PostgreSQL one is 0009_scheduled_in_menu.postgres.sql.
ALTER TABLE domain_orders ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE domain_orders ADD COLUMN decided_at BIGINT;
CREATE UNIQUE INDEX domain_orders_pending_name ON domain_orders (name) WHERE status = 'pending';

CREATE TRIGGER tariff_changes_version_insert AFTER INSERT ON tariff_changes BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id;
END;
CREATE TRIGGER tariff_changes_version_update AFTER UPDATE ON tariff_changes BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id AND NEW.customer_id <> OLD.customer_id;
END;
CREATE TRIGGER tariff_changes_version_delete AFTER DELETE ON tariff_changes BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
END;

CREATE TRIGGER domain_orders_version_insert AFTER INSERT ON domain_orders BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id;
END;
CREATE TRIGGER domain_orders_version_update AFTER UPDATE ON domain_orders BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id AND NEW.customer_id <> OLD.customer_id;
END;
CREATE TRIGGER domain_orders_version_delete AFTER DELETE ON domain_orders BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
END;
