-- Versions of what the customer dashboard shows, so that a rendered dashboard can be reused until it changes.
-- Triggers move them, so every writer does (the panel, the CLI, a second panel instance, a hand-written UPDATE):
-- a change to a customer's own rows (contracts, domains, mailboxes, refunds, dismissed advisories) counts up
-- customers.data_version; a change to what all customers share and the dashboard shows (a tariff's definition,
-- a node's name, advisories, a post's address) counts up the one row of content_version.
-- SQLite spelling; the PostgreSQL one is 0008_dashboard_versions.postgres.sql.
ALTER TABLE customers ADD COLUMN data_version BIGINT NOT NULL DEFAULT 0;
CREATE TABLE content_version (
    id BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO content_version (id, version) VALUES (1, 0);

CREATE TRIGGER contracts_version_insert AFTER INSERT ON contracts BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id;
END;
CREATE TRIGGER contracts_version_update AFTER UPDATE ON contracts BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id AND NEW.customer_id <> OLD.customer_id;
END;
CREATE TRIGGER contracts_version_delete AFTER DELETE ON contracts BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
END;

CREATE TRIGGER domains_version_insert AFTER INSERT ON domains BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id;
END;
CREATE TRIGGER domains_version_update AFTER UPDATE ON domains BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id AND NEW.customer_id <> OLD.customer_id;
END;
CREATE TRIGGER domains_version_delete AFTER DELETE ON domains BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
END;

CREATE TRIGGER mailboxes_version_insert AFTER INSERT ON mailboxes BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id;
END;
CREATE TRIGGER mailboxes_version_update AFTER UPDATE ON mailboxes BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id AND NEW.customer_id <> OLD.customer_id;
END;
CREATE TRIGGER mailboxes_version_delete AFTER DELETE ON mailboxes BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
END;

CREATE TRIGGER refunds_version_insert AFTER INSERT ON refunds BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id;
END;
CREATE TRIGGER refunds_version_update AFTER UPDATE ON refunds BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id AND NEW.customer_id <> OLD.customer_id;
END;
CREATE TRIGGER refunds_version_delete AFTER DELETE ON refunds BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
END;

CREATE TRIGGER advisory_dismissals_version_insert AFTER INSERT ON advisory_dismissals BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id;
END;
CREATE TRIGGER advisory_dismissals_version_update AFTER UPDATE ON advisory_dismissals BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
    UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id AND NEW.customer_id <> OLD.customer_id;
END;
CREATE TRIGGER advisory_dismissals_version_delete AFTER DELETE ON advisory_dismissals BEGIN
    UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
END;

CREATE TRIGGER tariffs_content_insert AFTER INSERT ON tariffs BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER tariffs_content_update AFTER UPDATE OF definition ON tariffs BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER tariffs_content_delete AFTER DELETE ON tariffs BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER nodes_content_insert AFTER INSERT ON nodes BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER nodes_content_update AFTER UPDATE OF name ON nodes BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER nodes_content_delete AFTER DELETE ON nodes BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER advisories_content_insert AFTER INSERT ON advisories BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER advisories_content_update AFTER UPDATE ON advisories BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER advisories_content_delete AFTER DELETE ON advisories BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER posts_content_insert AFTER INSERT ON posts BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER posts_content_update AFTER UPDATE OF slug ON posts BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER posts_content_delete AFTER DELETE ON posts BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
END;
