//! Opting out from a message: the signed unsubscribe link of every message, and Twilio's
//! inbound-SMS webhook (STOP / START). The rules; the runtime reads the request and calls the
//! visitor's object.

use serde_json::json;
use vitrine_engine::journey::LinkClaims;
use vitrine_engine::token;

use vitrine_contacts::Country;
use vitrine_engine::journey::Channel;

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
        "whatsapp" => "WhatsApp messages",
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

/// An inbound SMS or WhatsApp message as Twilio posts it (form-encoded `From`, `Body`,
/// `MessageSid`; WhatsApp's `From` is `whatsapp:+E164`).
#[derive(Debug, PartialEq)]
pub struct InboundSms {
    /// The sender's number in E.164, the channel prefix gone.
    pub from: String,
    /// Sms, or Whatsapp: a STOP speaks for the channel it came on.
    pub channel: Channel,
    pub body: String,
    pub message_id: String,
}

#[derive(Debug, PartialEq)]
pub enum SmsRefusal {
    /// 403: someone other than Twilio (or another account) posted it.
    BadSignature,
    /// 503: no `TWILIO_AUTH_TOKEN` and not dev mode: the endpoint is off.
    NotConfigured,
    /// 400: no `From`, or not a phone number (E.164, or `whatsapp:` and E.164).
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
            SmsRefusal::NoFrom => "missing From (a phone number, or whatsapp:+E164)",
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
/// `From` is parsed (`messaging::twilio_address`): the number's object is keyed by E.164.
pub fn inbound_sms(
    form_body: &str,
    url: &str,
    signature: Option<&str>,
    auth_token: Option<&str>,
    dev_mode: bool,
    country: Country,
    now: i64,
) -> Result<InboundSms, SmsRefusal> {
    let form = twilio_form(form_body, url, signature, auth_token, dev_mode)?;
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let (body, sid) = (get("Body"), get("MessageSid"));
    let (channel, from) = messaging::twilio_address(&get("From"), country).ok_or(SmsRefusal::NoFrom)?;
    let message_id = if sid.is_empty() { format!("{channel}-{from}-{now}") } else { sid };
    Ok(InboundSms { from, channel, body, message_id })
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
        let gb = Country::parse("GB").unwrap();
        let inbound = |body: &str, sig: Option<&str>, token: Option<&str>, dev: bool, now: i64| {
            inbound_sms(body, "https://shop.example/v1/sms/inbound", sig, token, dev, gb, now)
        };
        let body = "From=%2B447400123456&Body=STOP&MessageSid=SM1";
        assert_eq!(inbound(body, Some("forged"), Some("token"), true, 0), Err(SmsRefusal::BadSignature));
        assert_eq!(inbound(body, None, None, false, 0), Err(SmsRefusal::NotConfigured));
        let dev = inbound(body, None, None, true, 0).unwrap();
        assert_eq!((dev.from.as_str(), dev.channel, dev.body.as_str(), dev.message_id.as_str()), ("+447400123456", Channel::Sms, "STOP", "SM1"));
        assert_eq!(inbound("Body=hi", None, None, true, 5), Err(SmsRefusal::NoFrom));
        assert_eq!(inbound("From=07400123456&Body=hi", None, None, true, 5).unwrap().message_id, "sms-+447400123456-5", "national: the store's country");
        // WhatsApp: the same webhook, `From=whatsapp:+E164`; the number's object is the SMS one.
        let wa = inbound("From=whatsapp%3A%2B447400123456&Body=STOP&MessageSid=SM2", None, None, true, 0).unwrap();
        assert_eq!((wa.from.as_str(), wa.channel), ("+447400123456", Channel::Whatsapp));
        // A prefix is parsed, then the number validated: no key for another object slips through.
        for bad in ["whatsapp%3A07400123456", "whatsapp%3A%2B1", "whatsapp%3A%2B447400123456%2Fx", "e%3Ajane%40example.com", "1"] {
            assert_eq!(inbound(&format!("From={bad}&Body=STOP"), None, None, true, 0), Err(SmsRefusal::NoFrom), "{bad}");
        }
    }
}
