//! Fuzzes the Outlook Autodiscover request parser: the one decoder of untrusted bytes on the panel's public
//! side (DTDs, entities, oversized and malformed bodies must be refused without a panic).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(email) = hostwerk_mailconfig::parse_autodiscover_request(data) {
        // Whatever parses is a valid address, and answering it never panics.
        let answer = hostwerk_mailconfig::autodiscover_response(&hostwerk_mailconfig::MailConfig::demo(), &email);
        assert!(answer.starts_with("<?xml"));
    }
});
