//! Outlook's Autodiscover in the plain-old-XML form: the request parser and the 2006a response documents.
//!
//! Outlook POSTs a small XML body to `https://autodiscover.<domain>/autodiscover/autodiscover.xml`. The parser
//! here treats that body as hostile: it refuses bodies over [`MAX_AUTODISCOVER_REQUEST_BYTES`], any DTD
//! (`<!DOCTYPE`, `<!ENTITY`, so no entity is ever declared or expanded, internal or external), references to
//! entities other than the five predefined ones, text that is not UTF-8, malformed XML, a wrong namespace,
//! a missing or invalid address and any response schema but 2006a. It never panics, whatever the bytes.

use std::time::{SystemTime, UNIX_EPOCH};

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use hostwerk_domain::EmailAddress;

use crate::config::MailConfig;
use crate::xml::XmlWriter;

/// The largest request body the parser reads (16 KiB); Outlook's requests are about 350 bytes.
pub const MAX_AUTODISCOVER_REQUEST_BYTES: usize = 16 * 1024;
/// The namespace of Outlook's request.
pub const REQUEST_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
/// The only response schema this server answers in (`AcceptableResponseSchema`).
pub const OUTLOOK_RESPONSE_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
/// The namespace of the outer `Autodiscover` element of every response.
pub const RESPONSE_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
/// `ErrorCode` for a request that could not be understood.
pub const ERROR_INVALID_REQUEST: u16 = 600;
/// `ErrorCode` for a request asking for a response schema this server does not provide.
pub const ERROR_SCHEMA_UNAVAILABLE: u16 = 601;

/// Why an Autodiscover request body was refused. Each maps to an error response with [`Self::error_code`] and
/// [`Self::response_message`]; the details stay in the server's log, not in the answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AutodiscoverError {
    #[error("the request body is larger than {MAX_AUTODISCOVER_REQUEST_BYTES} bytes")]
    TooLarge,
    #[error("the request body contains a document type or entity declaration")]
    Dtd,
    #[error("the request body refers to an undeclared entity")]
    Entity,
    #[error("the request body is not UTF-8")]
    NotUtf8,
    #[error("the request body is not well-formed XML: {0}")]
    Malformed(String),
    #[error("the request is not an Outlook Autodiscover request (element or namespace)")]
    WrongRequestSchema,
    #[error("the request has no EMailAddress")]
    MissingEmailAddress,
    #[error("the EMailAddress of the request is not a valid address")]
    InvalidEmailAddress,
    #[error("the request does not accept the response schema {OUTLOOK_RESPONSE_SCHEMA}")]
    UnsupportedResponseSchema,
}

impl AutodiscoverError {
    /// The documented `ErrorCode`: 601 for an unsupported response schema, 600 for everything else.
    pub fn error_code(&self) -> u16 {
        match self {
            AutodiscoverError::UnsupportedResponseSchema => ERROR_SCHEMA_UNAVAILABLE,
            _ => ERROR_INVALID_REQUEST,
        }
    }

    /// The `Message` to send back: the documented texts, without details of the input.
    pub fn response_message(&self) -> &'static str {
        match self {
            AutodiscoverError::UnsupportedResponseSchema => "Provider is not available",
            _ => "Invalid Request",
        }
    }
}

/// Where the parser is in the expected tree `Autodiscover/Request/{EMailAddress,AcceptableResponseSchema}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Autodiscover,
    Request,
    EmailAddress,
    ResponseSchema,
    /// Any other element (ignored with everything inside it, e.g. `LegacyDN`).
    Other,
}

/// Reads Outlook's request body and returns the address it asks about.
pub fn parse_autodiscover_request(body: &[u8]) -> Result<EmailAddress, AutodiscoverError> {
    if body.len() > MAX_AUTODISCOVER_REQUEST_BYTES {
        return Err(AutodiscoverError::TooLarge);
    }
    if contains_ignore_ascii_case(body, b"<!DOCTYPE") || contains_ignore_ascii_case(body, b"<!ENTITY") {
        return Err(AutodiscoverError::Dtd);
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|_| AutodiscoverError::NotUtf8)?;

    let mut reader = NsReader::from_str(text);
    let config = reader.config_mut();
    config.check_comments = true;
    config.check_end_names = true;
    config.allow_unmatched_ends = false;

    let mut stack: Vec<Node> = Vec::new();
    let mut root_seen = false;
    let mut email: Option<String> = None;
    let mut schema: Option<String> = None;
    let malformed = |e: quick_xml::Error| AutodiscoverError::Malformed(e.to_string());

    loop {
        let (ns, event) = reader.read_resolved_event().map_err(malformed)?;
        let in_namespace = matches!(ns, ResolveResult::Bound(n) if n.0 == REQUEST_SCHEMA);
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                for attr in e.attributes().with_checks(true) {
                    attr.map_err(|err| AutodiscoverError::Malformed(err.to_string()))?;
                }
                let name = e.local_name();
                let local: &str = name.as_ref();
                let parent = stack.last().copied();
                let node = match parent {
                    None if root_seen => return Err(AutodiscoverError::Malformed("more than one root element".into())),
                    None if in_namespace && local == "Autodiscover" => Node::Autodiscover,
                    None => return Err(AutodiscoverError::WrongRequestSchema),
                    Some(Node::Autodiscover) if in_namespace && local == "Request" => Node::Request,
                    Some(Node::Request) if in_namespace && local == "EMailAddress" => Node::EmailAddress,
                    Some(Node::Request) if in_namespace && local == "AcceptableResponseSchema" => Node::ResponseSchema,
                    Some(_) => Node::Other,
                };
                root_seen = true;
                let slot = match node {
                    Node::EmailAddress => Some(&mut email),
                    Node::ResponseSchema => Some(&mut schema),
                    _ => None,
                };
                if let Some(slot) = slot {
                    if slot.is_some() {
                        return Err(AutodiscoverError::Malformed("an element appears twice".into()));
                    }
                    *slot = Some(String::new());
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(node);
                }
            }
            Event::End(_) => {
                stack.pop().ok_or_else(|| AutodiscoverError::Malformed("unexpected end tag".into()))?;
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                push_text(&stack, &content, &mut email, &mut schema)?;
            }
            Event::CData(t) => {
                let content = t.xml10_content();
                if stack.is_empty() {
                    return Err(AutodiscoverError::Malformed("CDATA outside the root element".into()));
                }
                push_text(&stack, &content, &mut email, &mut schema)?;
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten().ok_or(AutodiscoverError::Entity)?
                } else {
                    match r.xml10_content().as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        _ => return Err(AutodiscoverError::Entity),
                    }
                };
                if stack.is_empty() {
                    return Err(AutodiscoverError::Malformed("a reference outside the root element".into()));
                }
                push_text(&stack, c.encode_utf8(&mut [0; 4]), &mut email, &mut schema)?;
            }
            Event::DocType(_) => return Err(AutodiscoverError::Dtd),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(AutodiscoverError::Malformed("the document ends inside an element".into()));
    }
    if !root_seen {
        return Err(AutodiscoverError::Malformed("no root element".into()));
    }
    let email = email.ok_or(AutodiscoverError::MissingEmailAddress)?;
    if email.trim().is_empty() {
        return Err(AutodiscoverError::MissingEmailAddress);
    }
    if schema.as_deref().map(str::trim) != Some(OUTLOOK_RESPONSE_SCHEMA) {
        return Err(AutodiscoverError::UnsupportedResponseSchema);
    }
    EmailAddress::parse(&email).map_err(|_| AutodiscoverError::InvalidEmailAddress)
}

/// Adds character data to the field being read; text elsewhere must be white space (or inside ignored
/// elements).
fn push_text(
    stack: &[Node],
    text: &str,
    email: &mut Option<String>,
    schema: &mut Option<String>,
) -> Result<(), AutodiscoverError> {
    let target = match stack.last() {
        Some(Node::EmailAddress) => email.as_mut(),
        Some(Node::ResponseSchema) => schema.as_mut(),
        Some(Node::Other) => return Ok(()),
        _ => None,
    };
    match target {
        Some(value) => value.push_str(text),
        None if text.trim().is_empty() => {}
        None => return Err(AutodiscoverError::Malformed("text outside the expected elements".into())),
    }
    Ok(())
}

fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// The Autodiscover answer (response schema 2006a) for `email`: IMAP, POP3 and SMTP over implicit TLS with
/// the full address as login name. The same shape for every address.
pub fn autodiscover_response(cfg: &MailConfig, email: &EmailAddress) -> String {
    let (inc, out) = (&cfg.incoming, &cfg.outgoing);
    let mut w = XmlWriter::new();
    w.open("Autodiscover", &[("xmlns", RESPONSE_SCHEMA)]);
    w.open("Response", &[("xmlns", OUTLOOK_RESPONSE_SCHEMA)]);
    w.open("Account", &[]);
    w.leaf("AccountType", "email");
    w.leaf("Action", "settings");
    for (kind, host, port) in [
        ("IMAP", inc.ssl_host.as_str(), inc.imap_ssl_port),
        ("POP3", inc.ssl_host.as_str(), inc.pop3_ssl_port),
        ("SMTP", out.ssl_host.as_str(), out.smtp_ssl_port),
    ] {
        w.open("Protocol", &[]);
        w.leaf("Type", kind);
        w.leaf("Server", host);
        w.leaf("Port", &port.to_string());
        w.leaf("DomainRequired", "off");
        w.leaf("LoginName", email.as_str());
        w.leaf("SPA", "off");
        w.leaf("SSL", "on");
        w.leaf("Encryption", "SSL");
        w.leaf("AuthRequired", "on");
        if kind == "SMTP" {
            w.leaf("UsePOPAuth", "off");
            w.leaf("SMTPLast", "off");
        }
        w.close("Protocol");
    }
    w.close("Account");
    w.close("Response");
    w.close("Autodiscover");
    w.finish()
}

/// The documented error answer (`Response/Error` with `Time`, `Id`, `ErrorCode`, `Message`, `DebugData`),
/// e.g. `autodiscover_error(600, "Invalid Request")`, stamped with the current time and a random `Id`.
pub fn autodiscover_error(code: u16, message: &str) -> String {
    let id = (uuid::Uuid::new_v4().as_u128() & 0x7FFF_FFFF) as u32;
    autodiscover_error_at(code, message, SystemTime::now(), id)
}

/// [`autodiscover_error`] with a given time (written as UTC `HH:MM:SS.fffffff`) and `Id`.
pub fn autodiscover_error_at(code: u16, message: &str, time: SystemTime, id: u32) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs() % 86_400;
    let time =
        format!("{:02}:{:02}:{:02}.{:07}", secs / 3600, secs / 60 % 60, secs % 60, since_epoch.subsec_nanos() / 100);
    let mut w = XmlWriter::new();
    w.open("Autodiscover", &[("xmlns", RESPONSE_SCHEMA)]);
    w.open("Response", &[]);
    w.open("Error", &[("Time", &time), ("Id", &id.to_string())]);
    w.leaf("ErrorCode", &code.to_string());
    w.leaf("Message", message);
    w.empty("DebugData", &[]);
    w.close("Error");
    w.close("Response");
    w.close("Autodiscover");
    w.finish()
}
