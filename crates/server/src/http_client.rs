//! The server's one outbound HTTP client, for the few requests Kakehashi makes itself: an LTI
//! tool's JWKS (GET, `lti::fetch`) and OpenID Connect Back-Channel Logout Tokens (a form POST,
//! `backchannel`). Blocking (run it in `spawn_blocking`), HTTP/1.1 over one TCP connection,
//! TLS by OpenSSL (the one crypto backend) with the system's trust store and host name checks;
//! plain http only to 127.0.0.1/localhost/[::1] (as registrations allow). Bounded in time
//! ([`TIMEOUT`] for connecting, each read and each write) and in size ([`MAX_BYTES`]).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The largest body read.
pub const MAX_BYTES: usize = 256 * 1024;
/// The bound on connecting, and on each read and write.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// An answer: its status and body (de-chunked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// `GET url`; the body of a 200 answer, or why there is none.
pub fn get(url: &str, accept: &str) -> Result<String, String> {
    let answer = exchange(url, "GET", &[("Accept", accept)], None)?;
    if answer.status != 200 {
        return Err(format!("HTTP {}", answer.status));
    }
    Ok(answer.body)
}

/// `POST url` with an `application/x-www-form-urlencoded` body of `fields`; the answer
/// whatever its status, or why there is none.
pub fn post_form(url: &str, fields: &[(&str, &str)]) -> Result<Answer, String> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    exchange(
        url,
        "POST",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json, text/plain, */*"),
        ],
        Some(&body),
    )
}

fn exchange(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Answer, String> {
    let u = url::Url::parse(url).map_err(|e| e.to_string())?;
    let host = u.host_str().ok_or("no host")?.to_owned();
    let port = u.port_or_known_default().ok_or("no port")?;
    let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]");
    let bare_host = host.trim_matches(['[', ']']);
    // Checked before the name is even resolved: no byte goes to a host over a scheme it may not be reached by.
    match u.scheme() {
        "https" => {}
        "http" if loopback => {}
        other => {
            return Err(format!(
                "{other} is not allowed here: use https (http only for 127.0.0.1 or localhost)"
            ))
        }
    }
    let addr = (bare_host, port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("the host name does not resolve")?;
    let path = match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    };
    let host_header = match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host_header}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(b) = body {
        request.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    request.push_str("User-Agent: kakehashi\r\nConnection: close\r\n\r\n");
    if let Some(b) = body {
        request.push_str(b);
    }
    let tcp = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(TIMEOUT)).ok();
    tcp.set_write_timeout(Some(TIMEOUT)).ok();
    let raw = if u.scheme() == "https" {
        let connector = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls())
            .map_err(|e| e.to_string())?
            .build();
        let mut tls = connector
            .connect(bare_host, tcp)
            .map_err(|e| e.to_string())?;
        send(&mut tls, &request)?
    } else {
        let mut tcp = tcp;
        send(&mut tcp, &request)?
    };
    parse_response(&raw)
}

fn send(s: &mut (impl Read + Write), request: &str) -> Result<Vec<u8>, String> {
    s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.take(MAX_BYTES as u64 + 16 * 1024)
        .read_to_end(&mut raw)
        .map_err(|e| e.to_string())?;
    Ok(raw)
}

fn parse_response(raw: &[u8]) -> Result<Answer, String> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = match text.split_once("\r\n\r\n") {
        Some(parts) => parts,
        None if !text.is_empty() => (text.as_ref(), ""),
        None => return Err("no HTTP response".into()),
    };
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no HTTP status")?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    if body.len() > MAX_BYTES {
        return Err("the answer is too large".into());
    }
    Ok(Answer { status, body })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest.get(n + 2..).unwrap_or("");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_read_plain_or_chunked_and_errors_named() {
        let ok = |status, body: &str| Answer {
            status,
            body: body.into(),
        };
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").unwrap(),
            ok(200, "{}")
        );
        assert_eq!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
            )
            .unwrap(),
            ok(200, "{}")
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n").unwrap(),
            ok(404, "")
        );
        assert_eq!(parse_response(b"").unwrap_err(), "no HTTP response");
    }

    #[test]
    fn plain_http_only_to_this_machine() {
        let e = post_form("http://rp.example/logout", &[("logout_token", "x")]).unwrap_err();
        assert!(e.contains("use https"), "{e}");
        assert!(get("ftp://127.0.0.1/x", "*/*").unwrap_err().contains("ftp"));
    }

    #[test]
    fn a_form_is_posted_with_its_length_and_type() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = vec![0u8; 4096];
            let mut got = Vec::new();
            while !String::from_utf8_lossy(&got).contains("logout_token=a%2Bb") {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
            String::from_utf8(got).unwrap()
        });
        let answer = post_form(
            &format!("http://127.0.0.1:{port}/bcl?x=1"),
            &[("logout_token", "a+b")],
        )
        .unwrap();
        assert_eq!(answer.status, 204);
        let request = server.join().unwrap();
        assert!(
            request.starts_with("POST /bcl?x=1 HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(request.contains("Content-Type: application/x-www-form-urlencoded\r\n"));
        assert!(request.contains("Content-Length: 18\r\n"));
        assert!(request.ends_with("\r\n\r\nlogout_token=a%2Bb"));
    }
}
