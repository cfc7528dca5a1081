//! The mail-client configuration documents' integration tests, one binary with a module per document.

mod apple;
mod autodiscover;
mod dns;
mod guides;
mod thunderbird;
