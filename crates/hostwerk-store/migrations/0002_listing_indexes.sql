-- The customer menu lists domains by name and mailboxes by address: an index in that order serves the
-- listing without a sort.
DROP INDEX domains_customer;
CREATE INDEX domains_customer_name ON domains (customer_id, name);
DROP INDEX mailboxes_customer;
CREATE INDEX mailboxes_customer_address ON mailboxes (customer_id, address);
