//! Opting out from a message: the signed unsubscribe link of every message, and Twilio's
//! inbound-SMS webhook (STOP / START). The rules; the runtime reads the request and calls the
//! visitor's object.

use serde_json::json;
use vitrine_engine::journey::LinkClaims;
use vitrine_engine::token;

use crate::messaging;

/// A valid unsubscribe link's claims: signed by `LINK_SECRET`, naming a channel and a visitor.
pub fn unsubscribe_claims(link_secret: &[u8], vt: &str) -> Option<LinkClaims> {
    let payload = token::verify(link_secret, vt).ok()?;
    let c: LinkClaims = serde_json::from_slice(&payload).ok()?;
    (!c.unsubscribe.is_empty() && !c.visitor.is_empty()).then_some(c)
}

fn what(channel: &str) -> &'static str {
    match channel {
        "sms" => "text messages",
        "push" => "notifications",
        "email" => "emails",
        _ => "messages",
    }
}

/// GET shows a page with one button: link scanners in mail systems open links, so a GET
/// changes nothing. POST (the button, and RFC 8058 one-click from the mail client) withdraws.
pub fn confirm_page(c: &LinkClaims) -> String {
    format!(
        "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>Unsubscribe</title>\
         <form method=post><p>Stop {} from us?</p><button type=submit>Unsubscribe</button></form>",
        what(&c.unsubscribe)
    )
}

pub fn done_page(c: &LinkClaims) -> String {
    format!("<!doctype html><meta charset=utf-8><title>Unsubscribed</title><p>You will get no more {} from us.</p>", what(&c.unsubscribe))
}

/// The consent event that withdraws the link's channel, for the visitor's object.
pub fn withdrawal(c: &LinkClaims, now: i64) -> serde_json::Value {
    json!({
        "type": "consent",
        "messageId": format!("unsubscribe-{}-{now}", c.unsubscribe),
        "anonymousId": c.visitor,
        "channels": { c.unsubscribe.clone(): false }
    })
}

/// The confirmation link of a double opt-in email. GET only shows the button (mail systems'
/// link scanners open links); POST confirms.
pub fn opt_in_page() -> &'static str {
    "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>Confirm</title>\
     <form method=post><p>Get our emails (offers, your cart)?</p><button type=submit>Yes, confirm</button></form>"
}

pub fn opted_in_page() -> &'static str {
    "<!doctype html><meta charset=utf-8><title>Confirmed</title><p>Thank you: your email is confirmed.</p>"
}

/// An inbound SMS as Twilio posts it (form-encoded `From`, `Body`, `MessageSid`).
#[derive(Debug, PartialEq)]
pub struct InboundSms {
    pub from: String,
    pub body: String,
    pub message_id: String,
}

#[derive(Debug, PartialEq)]
pub enum SmsRefusal {
    /// 403: someone other than Twilio (or another account) posted it.
    BadSignature,
    /// 503: no `TWILIO_AUTH_TOKEN` and not dev mode: the endpoint is off.
    NotConfigured,
    /// 400
    NoFrom,
}

impl SmsRefusal {
    pub fn status(&self) -> u16 {
        match self {
            SmsRefusal::BadSignature => 403,
            SmsRefusal::NotConfigured => 503,
            SmsRefusal::NoFrom => 400,
        }
    }
    pub fn message(&self) -> &'static str {
        match self {
            SmsRefusal::BadSignature => "X-Twilio-Signature does not match this request",
            SmsRefusal::NotConfigured => "inbound SMS is not configured (TWILIO_AUTH_TOKEN)",
            SmsRefusal::NoFrom => "missing From",
        }
    }
}

/// Empty TwiML: no auto-reply.
pub const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

/// A Twilio webhook's form (inbound SMS, status callbacks), if Twilio signed it: with
/// `TWILIO_AUTH_TOKEN` set, `X-Twilio-Signature` must match `url` and the parameters; without
/// it the webhook is off, except in dev mode.
pub fn twilio_form(form_body: &str, url: &str, signature: Option<&str>, auth_token: Option<&str>, dev_mode: bool) -> Result<Vec<(String, String)>, SmsRefusal> {
    let form: Vec<(String, String)> = crate::query::pairs(form_body).collect();
    match auth_token {
        Some(token) if !messaging::twilio_signature_matches(token, url, &form, signature) => Err(SmsRefusal::BadSignature),
        Some(_) => Ok(form),
        None if dev_mode => Ok(form),
        None => Err(SmsRefusal::NotConfigured),
    }
}

/// Only requests signed with the account's auth token count (`X-Twilio-Signature` over `url`):
/// anyone else could stop or restart someone's messages. Without a token the endpoint is off,
/// except in dev mode.
pub fn inbound_sms(form_body: &str, url: &str, signature: Option<&str>, auth_token: Option<&str>, dev_mode: bool, now: i64) -> Result<InboundSms, SmsRefusal> {
    let form = twilio_form(form_body, url, signature, auth_token, dev_mode)?;
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let (from, body, sid) = (get("From"), get("Body"), get("MessageSid"));
    if from.is_empty() {
        return Err(SmsRefusal::NoFrom);
    }
    let message_id = if sid.is_empty() { format!("sms-{from}-{now}") } else { sid };
    Ok(InboundSms { from, body, message_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsubscribe_links_must_be_signed_and_name_a_channel() {
        let claims = |c: serde_json::Value| token::sign(b"k", c.to_string().as_bytes());
        let good = claims(json!({ "visitor": "a:1", "unsubscribe": "sms" }));
        let c = unsubscribe_claims(b"k", &good).unwrap();
        assert!(confirm_page(&c).contains("Stop text messages") && confirm_page(&c).contains("method=post"));
        assert_eq!(withdrawal(&c, 7)["channels"]["sms"], false);
        assert_eq!(withdrawal(&c, 7)["anonymousId"], "a:1");
        assert!(unsubscribe_claims(b"other", &good).is_none());
        assert!(unsubscribe_claims(b"k", &claims(json!({ "visitor": "a:1" }))).is_none());
    }

    #[test]
    fn inbound_sms_needs_twilios_signature_unless_in_dev_mode() {
        let body = "From=%2B447700900123&Body=STOP&MessageSid=SM1";
        let url = "https://shop.example/v1/sms/inbound";
        assert_eq!(inbound_sms(body, url, Some("forged"), Some("token"), true, 0), Err(SmsRefusal::BadSignature));
        assert_eq!(inbound_sms(body, url, None, None, false, 0), Err(SmsRefusal::NotConfigured));
        let dev = inbound_sms(body, url, None, None, true, 0).unwrap();
        assert_eq!((dev.from.as_str(), dev.body.as_str(), dev.message_id.as_str()), ("+447700900123", "STOP", "SM1"));
        assert_eq!(inbound_sms("Body=hi", url, None, None, true, 5), Err(SmsRefusal::NoFrom));
        assert_eq!(inbound_sms("From=1&Body=hi", url, None, None, true, 5).unwrap().message_id, "sms-1-5");
    }
}
