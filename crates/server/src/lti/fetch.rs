//! Fetching a tool's JWKS (`--jwks-url`): one GET, HTTP/1.1 over a TCP connection, TLS by
//! OpenSSL (the one crypto backend) with the system's trust store and host name checks;
//! plain http only for 127.0.0.1/localhost (as the registration allows). Bounded in time
//! and size. Fetched documents are kept for `kakehashi_core::cache::TTL`.

use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use kakehashi_core::cache::TtlMap;
use kakehashi_core::lti::keys::JwksFetch;

const MAX_BYTES: usize = 256 * 1024;
const TIMEOUT: Duration = Duration::from_secs(5);

/// The server's [`JwksFetch`], with a short-lived cache per URL.
#[derive(Clone)]
pub struct HttpJwksFetch {
    cache: Arc<TtlMap<String, String>>,
}

impl Default for HttpJwksFetch {
    fn default() -> Self {
        HttpJwksFetch {
            cache: Arc::new(TtlMap::new(kakehashi_core::cache::TTL)),
        }
    }
}

impl JwksFetch for HttpJwksFetch {
    fn fetch<'a>(
        &'a self,
        url: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + 'a>> {
        Box::pin(async move {
            if let Some(body) = self.cache.get(&url.to_owned()) {
                return Ok(body);
            }
            let owned = url.to_owned();
            let body = tokio::task::spawn_blocking(move || get(&owned))
                .await
                .map_err(|e| e.to_string())??;
            self.cache.insert(url.to_owned(), body.clone());
            Ok(body)
        })
    }
}

fn get(url: &str) -> Result<String, String> {
    let u = url::Url::parse(url).map_err(|e| e.to_string())?;
    let host = u.host_str().ok_or("no host")?.to_owned();
    let port = u.port_or_known_default().ok_or("no port")?;
    let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]");
    let addr = (host.trim_matches(['[', ']']), port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("the host name does not resolve")?;
    let tcp = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(TIMEOUT)).ok();
    tcp.set_write_timeout(Some(TIMEOUT)).ok();
    let path = match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json, application/jwk-set+json\r\nUser-Agent: kakehashi\r\nConnection: close\r\n\r\n"
    );
    let raw = match u.scheme() {
        "https" => {
            let connector = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls())
                .map_err(|e| e.to_string())?
                .build();
            let mut tls = connector
                .connect(host.trim_matches(['[', ']']), tcp)
                .map_err(|e| e.to_string())?;
            exchange(&mut tls, &request)?
        }
        "http" if loopback => {
            let mut tcp = tcp;
            exchange(&mut tcp, &request)?
        }
        other => return Err(format!("{other} is not allowed for a JWKS URL")),
    };
    parse_response(&raw)
}

fn exchange(s: &mut (impl Read + Write), request: &str) -> Result<Vec<u8>, String> {
    s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.take(MAX_BYTES as u64 + 16 * 1024)
        .read_to_end(&mut raw)
        .map_err(|e| e.to_string())?;
    Ok(raw)
}

fn parse_response(raw: &[u8]) -> Result<String, String> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP response")?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no HTTP status")?;
    if status != 200 {
        return Err(format!("HTTP {status}"));
    }
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
        return Err("the JWKS document is too large".into());
    }
    Ok(body)
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
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").unwrap(),
            "{}"
        );
        assert_eq!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
            )
            .unwrap(),
            "{}"
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n").unwrap_err(),
            "HTTP 404"
        );
    }
}
