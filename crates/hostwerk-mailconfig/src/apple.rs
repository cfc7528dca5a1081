//! Apple configuration profiles (`.mobileconfig`) that add the mailbox to Mail on macOS, iOS and iPadOS.
//!
//! The profile is an unsigned XML property list with one `com.apple.mail.managed` payload: IMAP on the
//! implicit-TLS port and SMTP on 465, both with the full address as user name and password authentication.
//! The password is not in the profile; the device asks for it when the profile is installed.
//!
//! The profile's `PayloadIdentifier` is derived from the provider and the address, so installing a new
//! profile for the same mailbox replaces the old one; the `PayloadUUID`s are random (version 4, from the
//! operating system's generator) for every profile.

use plist::{Dictionary, Value};
use uuid::Uuid;

use hostwerk_domain::EmailAddress;

use crate::config::MailConfig;

/// The MIME type under which a profile must be served for the device to offer installing it.
pub const MOBILECONFIG_MIME_TYPE: &str = "application/x-apple-aspen-config";

/// Serializing the property list failed (it does not for the values this crate writes).
#[derive(Debug, thiserror::Error)]
#[error("could not write the configuration profile: {0}")]
pub struct MobileconfigError(#[from] plist::Error);

/// The two `PayloadUUID`s of a profile: the profile's own and its mail payload's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileUuids {
    pub profile: Uuid,
    pub payload: Uuid,
}

impl ProfileUuids {
    /// Two fresh random (version 4) UUIDs from the operating system's generator.
    pub fn random() -> Self {
        Self { profile: Uuid::new_v4(), payload: Uuid::new_v4() }
    }
}

/// The configuration profile for `email`, as the bytes of an XML property list. `display_name` is the
/// account holder's name shown as sender (`EmailAccountName`); blank leaves it to the device.
pub fn apple_mobileconfig(
    cfg: &MailConfig,
    email: &EmailAddress,
    display_name: &str,
    uuids: ProfileUuids,
) -> Result<Vec<u8>, MobileconfigError> {
    let identifier = profile_identifier(cfg, email);
    let address = email.as_str();
    let imap_host = &cfg.incoming.ssl_host;
    let smtp_host = &cfg.outgoing.ssl_host;

    let mut mail = Dictionary::new();
    let mut put = |key: &str, value: Value| {
        mail.insert(key.to_owned(), value);
    };
    put("EmailAccountDescription", Value::from(format!("{address} ({})", cfg.display_short_name)));
    if !display_name.trim().is_empty() {
        put("EmailAccountName", Value::from(display_name.trim().to_owned()));
    }
    put("EmailAccountType", Value::from("EmailTypeIMAP"));
    put("EmailAddress", Value::from(address.to_owned()));
    put("IncomingMailServerAuthentication", Value::from("EmailAuthPassword"));
    put("IncomingMailServerHostName", Value::from(imap_host.clone()));
    put("IncomingMailServerPortNumber", Value::from(cfg.incoming.imap_ssl_port));
    put("IncomingMailServerUseSSL", Value::from(true));
    put("IncomingMailServerUsername", Value::from(address.to_owned()));
    put("OutgoingMailServerAuthentication", Value::from("EmailAuthPassword"));
    put("OutgoingMailServerHostName", Value::from(smtp_host.clone()));
    put("OutgoingMailServerPortNumber", Value::from(cfg.outgoing.smtp_ssl_port));
    put("OutgoingMailServerUseSSL", Value::from(true));
    put("OutgoingMailServerUsername", Value::from(address.to_owned()));
    put("OutgoingPasswordSameAsIncomingPassword", Value::from(true));
    put("PayloadDescription", Value::from(format!("E-Mail {address}")));
    put("PayloadDisplayName", Value::from(format!("E-Mail {address}")));
    put("PayloadIdentifier", Value::from(format!("{identifier}.email")));
    put("PayloadOrganization", Value::from(cfg.display_name.clone()));
    put("PayloadType", Value::from("com.apple.mail.managed"));
    put("PayloadUUID", Value::from(format!("{:X}", uuids.payload)));
    put("PayloadVersion", Value::from(1u32));
    put("PreventAppSheet", Value::from(false));
    put("PreventMove", Value::from(false));
    put("SMIMEEnabled", Value::from(false));

    let mut profile = Dictionary::new();
    let mut put = |key: &str, value: Value| {
        profile.insert(key.to_owned(), value);
    };
    put("PayloadContent", Value::Array(vec![Value::Dictionary(mail)]));
    put("PayloadDescription", Value::from(format!("{} – E-Mail {address}", cfg.display_name)));
    put("PayloadDisplayName", Value::from(format!("E-Mail {address}")));
    put("PayloadIdentifier", Value::from(identifier));
    put("PayloadOrganization", Value::from(cfg.display_name.clone()));
    put("PayloadRemovalDisallowed", Value::from(false));
    put("PayloadType", Value::from("Configuration"));
    put("PayloadUUID", Value::from(format!("{:X}", uuids.profile)));
    put("PayloadVersion", Value::from(1u32));

    let mut bytes = Vec::new();
    Value::Dictionary(profile).to_writer_xml(&mut bytes)?;
    Ok(bytes)
}

/// `<provider reversed>.mailconfig.<address>`, with every character outside `A-Za-z0-9-` in the address
/// replaced: `@` by `.at.`, `.` kept as label separator, others by `-` (e.g.
/// `example.hostwerk.mailconfig.anna.at.example.org`).
fn profile_identifier(cfg: &MailConfig, email: &EmailAddress) -> String {
    let provider: Vec<&str> = cfg.provider_id.split('.').rev().collect();
    let local: String =
        email.local_part().chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' }).collect();
    format!("{}.mailconfig.{local}.at.{}", provider.join("."), email.domain())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn identifier_is_reverse_dns() {
        let email = EmailAddress::parse("anna+news@example.org").unwrap();
        assert_eq!(
            profile_identifier(&MailConfig::demo(), &email),
            "example.hostwerk.mailconfig.anna-news.at.example.org"
        );
    }
}
