//! A minimal HTTP/1.1 client for the load drivers in this directory: one keep-alive
//! loopback connection, Content-Length and chunked bodies, no TLS. Written on `std` so that
//! a driver costs little beside the server it measures.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// A response, with the headers the flow needs.
pub struct Resp {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

/// One keep-alive connection to the provider (every URL in the flow is on one origin).
pub struct Conn {
    pub origin: String,
    stream: BufReader<TcpStream>,
}

impl Conn {
    pub fn new(any_url: &str) -> Result<Conn, String> {
        let origin = origin_of(any_url)?;
        let host = origin.trim_start_matches("http://");
        let s = TcpStream::connect(host).map_err(|e| format!("connect {host}: {e}"))?;
        s.set_nodelay(true).ok();
        Ok(Conn {
            origin,
            stream: BufReader::new(s),
        })
    }

    pub fn send(
        &mut self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> Result<Resp, String> {
        let path = url.strip_prefix(&self.origin).unwrap_or(url);
        let host = self.origin.trim_start_matches("http://");
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: login_load\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if method == "POST" || method == "PUT" {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
            }
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body);
        self.stream
            .get_mut()
            .write_all(req.as_bytes())
            .map_err(|e| format!("write: {e}"))?;
        self.read_response()
    }

    fn read_response(&mut self) -> Result<Resp, String> {
        let mut line = String::new();
        self.stream
            .read_line(&mut line)
            .map_err(|e| format!("read: {e}"))?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or(format!("bad status line {line:?}"))?;
        let (mut len, mut chunked, mut location, mut set_cookies) =
            (0usize, false, None, Vec::new());
        loop {
            line.clear();
            self.stream
                .read_line(&mut line)
                .map_err(|e| format!("read: {e}"))?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let Some((k, v)) = l.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match k.to_ascii_lowercase().as_str() {
                "content-length" => len = v.parse().unwrap_or(0),
                "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                "location" => location = Some(v.to_owned()),
                "set-cookie" => set_cookies.push(v.to_owned()),
                _ => {}
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.stream
                    .read_line(&mut line)
                    .map_err(|e| format!("read: {e}"))?;
                let n = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                    .map_err(|_| "bad chunk size")?;
                let mut chunk = vec![0; n + 2];
                self.stream
                    .read_exact(&mut chunk)
                    .map_err(|e| format!("read: {e}"))?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else {
            body.resize(len, 0);
            self.stream
                .read_exact(&mut body)
                .map_err(|e| format!("read: {e}"))?;
        }
        Ok(Resp {
            status,
            location,
            set_cookies,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

fn origin_of(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or(format!("not an http:// URL: {url}"))?;
    let host = rest.split('/').next().unwrap_or(rest);
    Ok(format!("http://{host}"))
}
