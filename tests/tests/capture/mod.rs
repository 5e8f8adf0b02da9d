//! A provider capture server on 127.0.0.1: stands in for SendGrid, Twilio, FCM (its OAuth token
//! endpoint too), browsers' push services and the store's webhook. Records every request
//! (method, path, headers, body, the raw bytes) and answers the way the real provider does (202
//! for mail/send, 201 with a `sid` for Twilio, 200 with a `name` for FCM; a push service 201
//! with a `Location` under `/push/`, 410 Gone under `/push/gone`; `POST /token` checks the RS256
//! JWT bearer assertion with the key given to [`CaptureServer::accept_fcm_key`] and answers an
//! access token, or `invalid_grant`).
//! Can be told to fail the next N requests with 503, to exercise retries, or to fault the next
//! requests that match (a path and a body needle) one by one: a status (429, 5xx) or no answer
//! at all for a while (the sender's timeout), then the connection closed.

#![allow(dead_code)] // each test binary uses part of it

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Captured {
    pub method: String,
    pub path: String,
    /// Lower-cased names.
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// The body as sent (Web Push bodies are binary).
    pub bytes: Vec<u8>,
    /// Answered with this status.
    pub status: u16,
    /// The access token answered to a token request.
    pub issued_token: Option<String>,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Form fields (Twilio), decoded.
    pub fn form(&self) -> BTreeMap<String, String> {
        self.body.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a matching request gets instead of the provider's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// This status and a JSON error body (429, 500, 503, …).
    Status(u16),
    /// This status and this body (a provider's own error, e.g. Twilio's `{"code": 21610}`).
    Reply(u16, &'static str),
    /// No answer for this long, then the connection closes: the sender times out. Recorded
    /// with status [`NO_ANSWER`].
    Hang(Duration),
}

/// The status recorded for a request that got no answer ([`Fault::Hang`]).
pub const NO_ANSWER: u16 = 599;

/// Faults for the requests whose path contains `.0` and body contains `.1`, in order.
type Targeted = Vec<(String, String, VecDeque<Fault>)>;

pub struct CaptureServer {
    pub port: u16,
    requests: Arc<Mutex<Vec<Captured>>>,
    fail_next: Arc<AtomicUsize>,
    targeted: Arc<Mutex<Targeted>>,
    fcm_key: Arc<Mutex<Option<rsa::RsaPublicKey>>>,
}

/// A received FCM token request's answer: the token, or why the assertion is refused.
fn token_answer(form: &BTreeMap<String, String>, key: Option<&rsa::RsaPublicKey>, audience: &str, n: usize) -> Result<String, String> {
    use base64::Engine as _;
    use rsa::signature::Verifier;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string());
    if form.get("grant_type").map(String::as_str) != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return Err("unsupported grant_type".into());
    }
    let key = key.ok_or("no service account key registered with the capture server")?;
    let jwt = form.get("assertion").ok_or("no assertion")?;
    let (signing_input, signature) = jwt.rsplit_once('.').ok_or("not a JWT")?;
    let signature = rsa::pkcs1v15::Signature::try_from(b64(signature)?.as_slice()).map_err(|e| e.to_string())?;
    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.clone()).verify(signing_input.as_bytes(), &signature).map_err(|_| "bad signature")?;
    let (header, claims) = signing_input.split_once('.').ok_or("not a JWT")?;
    let header: serde_json::Value = serde_json::from_slice(&b64(header)?).map_err(|e| e.to_string())?;
    let claims: serde_json::Value = serde_json::from_slice(&b64(claims)?).map_err(|e| e.to_string())?;
    if header["alg"] != "RS256" || claims["aud"] != audience || claims["scope"] != "https://www.googleapis.com/auth/firebase.messaging" {
        return Err(format!("wrong header or claims: {header} {claims}"));
    }
    Ok(format!("ya29.e2e-{n}"))
}

impl CaptureServer {
    /// Token requests are checked against this service account key's public half.
    pub fn accept_fcm_key(&self, private_pem: &str) {
        use rsa::pkcs8::DecodePrivateKey;
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(private_pem).expect("a PKCS#8 RSA key");
        *self.fcm_key.lock().unwrap() = Some(key.to_public_key());
    }

    pub fn start() -> CaptureServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let fail_next = Arc::new(AtomicUsize::new(0));
        let targeted = Arc::new(Mutex::new(Vec::new()));
        let fcm_key = Arc::new(Mutex::new(None));
        let (r, f, t, k) = (requests.clone(), fail_next.clone(), targeted.clone(), fcm_key.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, f, t, k) = (r.clone(), f.clone(), t.clone(), k.clone());
                thread::spawn(move || {
                    let _ = serve(stream, &r, &f, &t, &k, port);
                });
            }
        });
        CaptureServer { port, requests, fail_next, targeted, fcm_key }
    }

    /// The next requests whose path contains `path` and body contains `needle` get `faults`,
    /// one each, in order; later ones are answered as usual.
    pub fn fault_matching(&self, path: &str, needle: &str, faults: &[Fault]) {
        self.targeted.lock().unwrap().push((path.into(), needle.into(), faults.iter().copied().collect()));
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The next `n` requests get a 503 (the sender should retry them).
    pub fn fail_next(&self, n: usize) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits until `pred` holds for the captured requests, or panics after `timeout`.
    pub fn wait_for(&self, timeout: Duration, what: &str, pred: impl Fn(&[Captured]) -> bool) -> Vec<Captured> {
        let start = Instant::now();
        loop {
            let reqs = self.requests();
            if pred(&reqs) {
                return reqs;
            }
            if start.elapsed() > timeout {
                let seen: Vec<String> = reqs.iter().map(|r| format!("{} {} {}", r.status, r.path, r.header("idempotency-key").unwrap_or(""))).collect();
                panic!("timed out after {timeout:?} waiting for {what}; captured:\n{}", seen.join("\n"));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

fn serve(
    stream: TcpStream,
    requests: &Mutex<Vec<Captured>>,
    fail_next: &AtomicUsize,
    targeted: &Mutex<Targeted>,
    fcm_key: &Mutex<Option<rsa::RsaPublicKey>>,
    port: u16,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        let body_text = String::from_utf8_lossy(&body).into_owned();
        let fault = targeted
            .lock()
            .unwrap()
            .iter_mut()
            .find(|(p, n, f)| !f.is_empty() && path.contains(p.as_str()) && body_text.contains(n.as_str()))
            .and_then(|t| t.2.pop_front());
        let n = requests.lock().unwrap().len();
        if let Some(Fault::Hang(d)) = fault {
            requests.lock().unwrap().push(Captured { method, path, headers, body: body_text, bytes: body, status: NO_ANSWER, issued_token: None });
            thread::sleep(d);
            return Ok(()); // closed without an answer
        }
        let failing = matches!(fault, Some(Fault::Status(_) | Fault::Reply(..)))
            || fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        let mut issued_token = None;
        let mut location = String::new();
        let (status, reply) = if let Some(Fault::Status(code)) = fault {
            (code, r#"{"error":"injected"}"#.to_string())
        } else if let Some(Fault::Reply(code, body)) = fault {
            (code, body.to_string())
        } else if failing {
            (503, r#"{"error":"try again"}"#.to_string())
        } else if path.ends_with("/v3/mail/send") {
            (202, String::new())
        } else if path.ends_with("/Messages.json") {
            (201, format!(r#"{{"sid":"SM{n:032}","status":"queued"}}"#))
        } else if path.contains("/messages:send") {
            (200, format!(r#"{{"name":"projects/p/messages/{n}"}}"#))
        } else if path == "/token" {
            let form = Captured {
                method: String::new(),
                path: String::new(),
                headers: BTreeMap::new(),
                body: body_text.clone(),
                bytes: Vec::new(),
                status: 0,
                issued_token: None,
            }
            .form();
            match token_answer(&form, fcm_key.lock().unwrap().as_ref(), &format!("http://127.0.0.1:{port}/token"), n) {
                Ok(token) => {
                    let reply = format!(r#"{{"access_token":"{token}","expires_in":3599,"token_type":"Bearer"}}"#);
                    issued_token = Some(token);
                    (200, reply)
                }
                Err(why) => (400, serde_json::json!({ "error": "invalid_grant", "error_description": why }).to_string()),
            }
        } else if path.starts_with("/push/gone") {
            (410, String::new())
        } else if path.starts_with("/push/") {
            location = format!("\r\nLocation: http://127.0.0.1:{port}/m/{n}");
            (201, String::new())
        } else {
            (200, format!(r#"{{"id":"wh-{n}"}}"#))
        };
        requests.lock().unwrap().push(Captured { method, path, headers, body: body_text, bytes: body, status, issued_token });
        let reason = match status {
            200 => "OK",
            201 => "Created",
            202 => "Accepted",
            400 => "Bad Request",
            410 => "Gone",
            429 => "Too Many Requests",
            500 => "Internal Server Error",
            _ => "Service Unavailable",
        };
        write!(
            stream,
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-Message-Id: sg-{n}{location}\r\n\r\n{reply}",
            reply.len()
        )?;
        stream.flush()?;
    }
}
