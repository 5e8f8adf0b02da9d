//! A minimal HTTP/1.1 client for the end-to-end tests: one request per connection, exact
//! bytes back (no decompression, no redirects followed), chunked bodies decoded.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.text()))
    }

    /// `name=value` of every Set-Cookie, for sending back.
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.headers_named("set-cookie")
            .into_iter()
            .filter_map(|c| c.split(';').next()?.split_once('=').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
            .collect()
    }
}

/// Sends one request to `base` (`http://host:port`) and reads the whole response.
pub fn request(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<HttpResponse> {
    let authority = base.strip_prefix("http://").unwrap_or(base).trim_end_matches('/');
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nUser-Agent: vitrine-tests\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" || method == "PUT" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw, method == "HEAD").map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

pub fn get(base: &str, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    request(base, "GET", path, headers, b"").unwrap_or_else(|e| panic!("GET {base}{path}: {e}"))
}

/// How a body is framed by [`slow_upload`].
#[derive(Clone, Copy, Debug)]
pub enum Framing {
    /// `Content-Length: n` (the body sent may be cut short when the answer comes first).
    Declared(u64),
    /// `Transfer-Encoding: chunked`, no length.
    Chunked,
}

/// What a slow upload saw when its answer came.
#[derive(Debug)]
pub struct Upload {
    pub response: HttpResponse,
    /// Body bytes written to the socket when the status line arrived.
    pub sent_at_answer: u64,
    /// From the request's head to the status line.
    pub answer_after: Duration,
}

/// Streams a body of up to `total` bytes in `chunk`-byte writes `pause` apart, like a slow
/// client, and stops as soon as the server answers (what a server that reads before refusing
/// would make us send in full). The answer's head and body are read as they come.
///
/// Tried again (four times at most, and said so) when no answer came: a server that answers and
/// closes while we still send can have its answer overtaken by the reset our next write causes
/// (TCP's own race), and `wrangler dev`'s proxy hop (a workerd in front of the worker's, which
/// production does not have) now and then loses its connection when the worker cancels a body
/// ("Network connection lost": no answer, or its own non-JSON 500).
pub fn slow_upload(base: &str, path: &str, headers: &[(&str, &str)], framing: Framing, total: u64, chunk: usize, pause: Duration) -> std::io::Result<Upload> {
    let mut tries = 0;
    loop {
        let outcome = upload_once(base, path, headers, framing, total, chunk, pause);
        let lost = match &outcome {
            Err(e) => matches!(e.kind(), std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof),
            Ok(up) => up.response.status >= 500 && !up.response.body.starts_with(b"{"),
        };
        if !lost || tries == 4 {
            return outcome;
        }
        eprintln!("    {path}: no answer of the worker's ({:?}), trying again", outcome.map(|u| u.response.status));
        tries += 1;
    }
}

fn upload_once(base: &str, path: &str, headers: &[(&str, &str)], framing: Framing, total: u64, chunk: usize, pause: Duration) -> std::io::Result<Upload> {
    let authority = base.strip_prefix("http://").unwrap_or(base).trim_end_matches('/');
    let mut stream = TcpStream::connect(authority)?;
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = stream.try_clone()?;
    reader.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nUser-Agent: vitrine-tests\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    match framing {
        Framing::Declared(n) => head.push_str(&format!("Content-Length: {n}\r\n")),
        Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
    }
    head.push_str("\r\n");
    let sent = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    stream.write_all(head.as_bytes())?;
    let read = {
        let (sent, answered) = (sent.clone(), answered.clone());
        std::thread::spawn(move || -> std::io::Result<(Vec<u8>, u64, Duration)> {
            let mut raw = Vec::new();
            let mut buf = [0u8; 8192];
            let mut at_answer = None;
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if raw.is_empty() => return Err(e),
                    Err(_) => break,
                };
                if at_answer.is_none() {
                    at_answer = Some((sent.load(Ordering::SeqCst), start.elapsed()));
                    answered.store(true, Ordering::SeqCst);
                }
                raw.extend_from_slice(&buf[..n]);
                if response_complete(&raw) {
                    break;
                }
            }
            answered.store(true, Ordering::SeqCst);
            let (sent_at, after) = at_answer.unwrap_or((sent.load(Ordering::SeqCst), start.elapsed()));
            Ok((raw, sent_at, after))
        })
    };
    let data = vec![b' '; chunk];
    let mut written = 0u64;
    while written < total && !answered.load(Ordering::SeqCst) {
        let n = chunk.min((total - written) as usize);
        let ok = match framing {
            Framing::Declared(_) => stream.write_all(&data[..n]),
            Framing::Chunked => stream.write_all(&[format!("{n:x}\r\n").as_bytes(), &data[..n], b"\r\n"].concat()),
        };
        if ok.is_err() {
            break; // the server closed its side: it has answered (or given up)
        }
        written += n as u64;
        sent.store(written, Ordering::SeqCst);
        std::thread::sleep(pause);
    }
    if written == total && matches!(framing, Framing::Chunked) {
        let _ = stream.write_all(b"0\r\n\r\n");
    }
    let (raw, sent_at_answer, answer_after) = read.join().expect("reader thread")?;
    let _ = stream.shutdown(std::net::Shutdown::Both);
    if raw.is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the connection closed with no answer"));
    }
    let response = parse_response(&raw, false).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    Ok(Upload { response, sent_at_answer, answer_after })
}

/// Whether `raw` holds a whole response (its head and the body its framing announces).
fn response_complete(raw: &[u8]) -> bool {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let body = &raw[end + 4..];
    if let Some(len) = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok()) {
        return body.len() >= len;
    }
    head.contains("transfer-encoding: chunked") && body.ends_with(b"0\r\n\r\n")
}

fn parse_response(raw: &[u8], head_only: bool) -> Result<HttpResponse, String> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|e| e.to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("empty response")?;
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked"));
    let body = if head_only || status == 204 || status == 304 {
        Vec::new()
    } else if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Ok(HttpResponse { status, headers, body })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n").ok_or("truncated chunk size")?;
        let size_text = std::str::from_utf8(&data[..eol]).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).map_err(|e| format!("chunk size {size_text:?}: {e}"))?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err("truncated chunk".into());
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chunked_and_plain() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1; Path=/\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n", false)
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, b"abcde".as_slice()));
        assert_eq!(r.cookies(), vec![("a".to_string(), "1".to_string())]);
        let r = parse_response(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno", false).unwrap();
        assert_eq!((r.status, r.text().as_str()), (404, "no"));
    }
}
