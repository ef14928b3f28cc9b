//! A `[[report.email]]` as a [`Delivery`]: the message composed by
//! [`crate::report::render::email`] and sent through `[reports.smtp]` with `lettre`
//! (STARTTLS, TLS or none; sign-in when a user name is set), retried on transient failures
//! (a 4xx reply, a lost connection) with backoff. The MIME layout: `multipart/mixed` holding
//! `multipart/alternative` (plain text, then `multipart/related` with the HTML and its
//! `cid:` charts) and the attachments. The password never reaches a log or an error.

use super::contract::Delivery;
use super::post::{chain, delivery_policy, DeliveryError};
use crate::report::mail_settings::{EmailSettings, Importance, SmtpSecurity, SmtpSettings};
use crate::report::message::Message;
use crate::report::render::email::{compose, Composed};
use crate::retry::{retry, RetryPolicy};
use chrono_tz::Tz;
use lettre::message::header::{
    ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue,
};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::Arc;

/// Why the mail transport cannot be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the mail server connection: {0}")]
pub struct TransportError(#[from] lettre::transport::smtp::Error);

/// The connection settings of `smtp` as a `lettre` transport.
pub fn transport(
    smtp: &SmtpSettings,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, TransportError> {
    let mut params = TlsParameters::builder(smtp.host.clone());
    if let Some(pem) = &smtp.ca_pem {
        params = params.add_root_certificate(Certificate::from_pem(pem)?);
    }
    let params = params.build_rustls()?;
    let tls = match smtp.security {
        SmtpSecurity::StartTls => Tls::Required(params),
        SmtpSecurity::Tls => Tls::Wrapper(params),
        SmtpSecurity::None => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        .port(smtp.port)
        .tls(tls)
        .timeout(Some(smtp.timeout));
    if let Some((user, password)) = &smtp.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), password.0.clone()));
    }
    Ok(builder.build())
}

/// One configured e-mail.
pub struct EmailDelivery {
    settings: EmailSettings,
    smtp: Arc<SmtpSettings>,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    time_zone: Tz,
    policy: RetryPolicy,
}

impl EmailDelivery {
    /// An e-mail delivery through `smtp`, with times shown in `time_zone`.
    pub fn new(
        settings: EmailSettings,
        smtp: Arc<SmtpSettings>,
        time_zone: Tz,
    ) -> Result<Self, TransportError> {
        Ok(EmailDelivery {
            transport: transport(&smtp)?,
            settings,
            smtp,
            time_zone,
            policy: delivery_policy(),
        })
    }

    /// The same with another backoff (tests use short ones).
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    fn target(&self) -> String {
        format!("smtp://{}:{}", self.smtp.host, self.smtp.port)
    }
}

#[async_trait::async_trait]
impl Delivery for EmailDelivery {
    fn describe(&self) -> String {
        format!("e-mail via {}", self.target())
    }

    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        let composed = compose(message, &self.settings, self.time_zone)
            .map_err(|e| DeliveryError::Render(e.to_string()))?;
        let email = mime(&composed, &self.smtp.from, self.settings.importance)?;
        let target = self.target();
        retry(
            &self.policy,
            self.settings.attempts,
            |attempt| {
                let email = email.clone();
                let target = target.clone();
                async move {
                    self.transport.send(email).await.map(|_| ()).map_err(|e| {
                        DeliveryError::Mail {
                            target,
                            attempts: attempt,
                            // A 4xx reply or a lost connection may pass; a 5xx reply, a
                            // TLS failure or a bad message will not.
                            transient: e.is_transient()
                                || !(e.is_permanent()
                                    || e.is_response()
                                    || e.is_client()
                                    || e.is_tls()),
                            message: chain(&e),
                        }
                    })
                }
            },
            DeliveryError::again,
        )
        .await
    }
}

fn address(text: &str, role: &str) -> Result<Mailbox, DeliveryError> {
    text.parse().map_err(|_| {
        DeliveryError::Render(format!(
            "the {role} address {text:?} is not an e-mail address"
        ))
    })
}

/// The composed e-mail as MIME.
pub fn mime(
    c: &Composed,
    from: &str,
    importance: Importance,
) -> Result<lettre::Message, DeliveryError> {
    let mut b = lettre::Message::builder()
        .from(address(from, "from")?)
        .subject(c.subject.clone());
    for a in &c.to {
        b = b.to(address(a, "to")?);
    }
    for a in &c.cc {
        b = b.cc(address(a, "cc")?);
    }
    for a in &c.bcc {
        b = b.bcc(address(a, "bcc")?);
    }
    if c.to.is_empty() && c.cc.is_empty() && c.bcc.is_empty() {
        return Err(DeliveryError::Render(
            "no recipient: every address template rendered empty".into(),
        ));
    }
    match importance {
        Importance::Normal => {}
        Importance::High => {
            b = b
                .header(ImportanceHeader("high"))
                .header(XPriority("1 (Highest)"))
        }
        Importance::Low => {
            b = b
                .header(ImportanceHeader("low"))
                .header(XPriority("5 (Lowest)"))
        }
    }
    let mut related = MultiPart::related().singlepart(SinglePart::html(c.html.clone()));
    for chart in &c.inline {
        related = related.singlepart(Attachment::new_inline(chart.cid.clone()).body(
            chart.png.clone(),
            ContentType::parse("image/png").map_err(|e| DeliveryError::Render(e.to_string()))?,
        ));
    }
    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::plain(c.text.clone()))
        .multipart(related);
    let mut mixed = MultiPart::mixed().multipart(alternative);
    for a in &c.attachments {
        let kind =
            ContentType::parse(a.content_type).map_err(|e| DeliveryError::Render(e.to_string()))?;
        // Base64 keeps a file's bytes exactly (a CSV's line ends too) and its lines short.
        let body = Body::new_with_encoding(a.bytes.clone(), ContentTransferEncoding::Base64)
            .map_err(|_| DeliveryError::Render(format!("cannot encode {}", a.name)))?;
        mixed = mixed.singlepart(Attachment::new(a.name.clone()).body(body, kind));
    }
    b.multipart(mixed)
        .map_err(|e| DeliveryError::Render(format!("cannot build the e-mail: {e}")))
}

/// `Importance: high|low` (Outlook and most clients).
#[derive(Debug, Clone)]
struct ImportanceHeader(&'static str);

impl Header for ImportanceHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Importance")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ImportanceHeader(if s.eq_ignore_ascii_case("high") {
            "high"
        } else {
            "low"
        }))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_string())
    }
}

/// `X-Priority: 1 (Highest)` / `5 (Lowest)` (older clients).
#[derive(Debug, Clone)]
struct XPriority(&'static str);

impl Header for XPriority {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Priority")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(XPriority(if s.starts_with('1') {
            "1 (Highest)"
        } else {
            "5 (Lowest)"
        }))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_string())
    }
}
