-- The staff console finds customers by a part of their name, whatever the case (issue 16). The panel writes the
-- name folded to lower case (Unicode, in Rust, so both engines compare the same text); rows from before this
-- migration get the database's LOWER, which on SQLite folds ASCII letters only.
ALTER TABLE customers ADD COLUMN name_folded TEXT NOT NULL DEFAULT '';
UPDATE customers SET name_folded = LOWER(name);
