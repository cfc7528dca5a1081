-- Versions of what the customer dashboard shows, so that a rendered dashboard can be reused until it changes.
-- Triggers move them, so every writer does (the panel, the CLI, a second panel instance, a hand-written UPDATE):
-- a change to a customer's own rows (contracts, domains, mailboxes, refunds, dismissed advisories) counts up
-- customers.data_version; a change to what all customers share and the dashboard shows (a tariff's definition,
-- a node's name, advisories, a post's address) counts up the one row of content_version.
-- PostgreSQL spelling; the SQLite one is 0008_dashboard_versions.sqlite.sql.
ALTER TABLE customers ADD COLUMN data_version BIGINT NOT NULL DEFAULT 0;
CREATE TABLE content_version (
    id BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO content_version (id, version) VALUES (1, 0);

CREATE FUNCTION hostwerk_customer_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE customers SET data_version = data_version + 1 WHERE id = OLD.customer_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.customer_id <> OLD.customer_id) THEN
        UPDATE customers SET data_version = data_version + 1 WHERE id = NEW.customer_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION hostwerk_content_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE content_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER contracts_data_version AFTER INSERT OR UPDATE OR DELETE ON contracts
    FOR EACH ROW EXECUTE FUNCTION hostwerk_customer_data_changed();
CREATE TRIGGER domains_data_version AFTER INSERT OR UPDATE OR DELETE ON domains
    FOR EACH ROW EXECUTE FUNCTION hostwerk_customer_data_changed();
CREATE TRIGGER mailboxes_data_version AFTER INSERT OR UPDATE OR DELETE ON mailboxes
    FOR EACH ROW EXECUTE FUNCTION hostwerk_customer_data_changed();
CREATE TRIGGER refunds_data_version AFTER INSERT OR UPDATE OR DELETE ON refunds
    FOR EACH ROW EXECUTE FUNCTION hostwerk_customer_data_changed();
CREATE TRIGGER advisory_dismissals_data_version AFTER INSERT OR UPDATE OR DELETE ON advisory_dismissals
    FOR EACH ROW EXECUTE FUNCTION hostwerk_customer_data_changed();

CREATE TRIGGER tariffs_content_version AFTER INSERT OR UPDATE OF definition OR DELETE ON tariffs
    FOR EACH STATEMENT EXECUTE FUNCTION hostwerk_content_changed();
CREATE TRIGGER nodes_content_version AFTER INSERT OR UPDATE OF name OR DELETE ON nodes
    FOR EACH STATEMENT EXECUTE FUNCTION hostwerk_content_changed();
CREATE TRIGGER advisories_content_version AFTER INSERT OR UPDATE OR DELETE ON advisories
    FOR EACH STATEMENT EXECUTE FUNCTION hostwerk_content_changed();
CREATE TRIGGER posts_content_version AFTER INSERT OR UPDATE OF slug OR DELETE ON posts
    FOR EACH STATEMENT EXECUTE FUNCTION hostwerk_content_changed();
