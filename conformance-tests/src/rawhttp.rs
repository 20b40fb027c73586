//! A minimal HTTP/1.1 exchange over a plain TCP socket for requests the server may answer
//! before reading them whole (an oversized body answered 413 at once). Writing and reading
//! run concurrently, so a reply that arrives while the body is still being written is
//! kept even when the server then resets the connection.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use url::Url;

use crate::client::Reply;

/// Bytes of the reply kept at most; status and headers are all the callers need.
const MAX_REPLY: usize = 1024 * 1024;

/// Sends `head` (request line and headers, each `Name: value`) and `body` to `url`'s
/// host and returns the server's reply, even if the server stopped reading the body.
pub async fn exchange(
    method: Method,
    url: Url,
    headers: &[(String, String)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Reply, String> {
    let describe = format!("{method} {url}");
    tokio::time::timeout(timeout, exchange_inner(method, url, headers, body))
        .await
        .map_err(|_| format!("{describe}: no reply within {}s", timeout.as_secs()))?
}

async fn exchange_inner(
    method: Method,
    url: Url,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Result<Reply, String> {
    let describe = format!("{method} {url}");
    let host = url
        .host_str()
        .ok_or_else(|| format!("{describe}: the URL has no host"))?
        .to_owned();
    let port = url
        .port_or_known_default()
        .ok_or_else(|| format!("{describe}: the URL has no port"))?;
    let stream = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("{describe}: connect failed: {e}"))?;
    let (mut reader, mut writer) = stream.into_split();

    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        authority(&url, &host),
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");

    // A write failure after the server answered (broken pipe, reset) is expected; the
    // reply read concurrently is what counts. The write half stays open until the reply
    // is read: servers may treat a half-close as the client giving up on the response.
    let write = async move {
        if writer.write_all(head.as_bytes()).await.is_ok() {
            let _ = writer.write_all(&body).await;
        }
        writer
    };
    let read = async move {
        let mut received = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    received.extend_from_slice(&chunk[..n]);
                    if received.len() >= MAX_REPLY || complete(&received) {
                        break;
                    }
                }
            }
        }
        received
    };
    let (writer, received) = tokio::join!(write, read);
    drop(writer);
    parse_reply(method, url, &received)
}

fn authority(url: &Url, host: &str) -> String {
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Whether `received` holds a whole reply with a Content-Length body.
fn complete(received: &[u8]) -> bool {
    let Some(end) = find(received, b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&received[..end]);
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())
            .flatten()
    });
    length.is_some_and(|len| received.len() >= end + 4 + len)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_reply(method: Method, url: Url, received: &[u8]) -> Result<Reply, String> {
    let describe = format!("{method} {url}");
    let end = find(received, b"\r\n\r\n").ok_or_else(|| {
        format!(
            "{describe}: the connection ended without a complete reply ({} bytes received)",
            received.len()
        )
    })?;
    let head = String::from_utf8_lossy(&received[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("{describe}: bad status line {status_line:?}"))?;
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(name, value);
        }
    }
    let raw_body = &received[end + 4..];
    let chunked = headers
        .get("transfer-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(raw_body)
    } else {
        raw_body.to_vec()
    };
    Ok(Reply {
        method,
        url,
        status,
        headers,
        body,
    })
}

/// Decodes a chunked body as far as it is complete.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(line_end) = find(raw, b"\r\n") {
        let size_text = String::from_utf8_lossy(&raw[..line_end]);
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_hex, 16) else {
            break;
        };
        let start = line_end + 2;
        if size == 0 || raw.len() < start + size {
            break;
        }
        body.extend_from_slice(&raw[start..start + size]);
        raw = raw.get(start + size + 2..).unwrap_or_default();
    }
    body
}
