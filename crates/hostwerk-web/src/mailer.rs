//! Sending mail: every mail is recorded in the outbox; with SMTP configured it is also delivered by lettre.

use lettre::message::Mailbox as LettreMailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use hostwerk_store::{Store, StoreError};

use crate::config::Config;

/// Records and delivers mail.
#[derive(Clone)]
pub struct Mailer {
    store: Store,
    from: String,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    /// The demo keeps secrets in the outbox: it has no SMTP relay, and the outbox is how its mails arrive.
    keep_secrets: bool,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).field("smtp", &self.smtp.is_some()).finish()
    }
}

impl Mailer {
    pub fn new(store: Store, config: &Config) -> Self {
        let smtp = config.smtp.as_ref().map(|s| {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
                .port(s.port)
                .timeout(Some(std::time::Duration::from_secs(20)))
                .build()
        });
        Self { store, from: config.mail_from.clone(), smtp, keep_secrets: config.demo }
    }

    /// Records the mail and, with SMTP configured, delivers it in the background.
    /// Sends the fixed notice `key` (texts `<key>.subject` and `<key>.body`) to `to` in `lang`.
    pub async fn notify(&self, to: &str, lang: hostwerk_domain::Language, key: &str) -> Result<(), StoreError> {
        let subject = crate::i18n::t(lang, &format!("{key}.subject"));
        self.send(to, &subject, &crate::i18n::t(lang, &format!("{key}.body"))).await
    }

    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), StoreError> {
        self.deliver(to, subject, body, body).await
    }

    /// Sends a mail that carries a usable secret (a reset link, an invitation link): the recipient gets it,
    /// but the outbox, which staff read, keeps the text with the secret replaced by a notice (issue 17).
    /// Only the demo, whose mails arrive nowhere else, keeps the secret in the outbox.
    pub async fn send_secret(
        &self,
        to: &str,
        lang: hostwerk_domain::Language,
        subject: &str,
        body: &str,
        secret: &str,
    ) -> Result<(), StoreError> {
        if self.keep_secrets || secret.is_empty() {
            return self.deliver(to, subject, body, body).await;
        }
        let recorded = body.replace(secret, &crate::i18n::t(lang, "mail.secret_redacted"));
        self.deliver(to, subject, &recorded, body).await
    }

    async fn deliver(&self, to: &str, subject: &str, recorded: &str, body: &str) -> Result<(), StoreError> {
        let status = if self.smtp.is_some() { "queued" } else { "stored" };
        let id = self.store.enqueue_mail(to, subject, recorded, status).await?;
        let Some(transport) = self.smtp.clone() else {
            tracing::info!(to, subject, "mail stored in the outbox (no SMTP relay configured)");
            return Ok(());
        };
        let message = build(&self.from, to, subject, body);
        let store = self.store.clone();
        tokio::spawn(async move {
            let result = match message {
                Ok(m) => transport.send(m).await.map(|_| ()).map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            if let Err(e) = &result {
                tracing::warn!(mail = id, error = %e, "mail delivery failed");
            }
            if let Err(e) = store.mark_mail(id, result).await {
                tracing::error!(mail = id, error = %e, "could not record mail delivery");
            }
        });
        Ok(())
    }
}

fn build(from: &str, to: &str, subject: &str, body: &str) -> Result<Message, String> {
    let from: LettreMailbox = from.parse().map_err(|e| format!("sender address: {e}"))?;
    let to: LettreMailbox = to.parse().map_err(|e| format!("recipient address: {e}"))?;
    // Quoted-printable keeps the text readable in any mail client and in the SMTP log.
    let part = lettre::message::SinglePart::builder()
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .header(lettre::message::header::ContentTransferEncoding::QuotedPrintable)
        .body(body.to_owned());
    Message::builder().from(from).to(to).subject(subject).singlepart(part).map_err(|e| e.to_string())
}
