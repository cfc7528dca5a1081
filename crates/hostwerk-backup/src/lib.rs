//! hostwerk-backup: the deduplicating, encrypted, incremental backup engine.
