//! `multipart/mixed` bodies as xAPI uses them for attachments (Communication 1.5.2,
//! RFC 2046 5.1): building request bodies part by part — well formed or deliberately not —
//! and reading the multipart responses of GET statements with `attachments=true`.

use rsa::sha2::{Digest as _, Sha256};
use serde_json::{Value, json};

/// One part: its header lines, in order, and its raw body.
#[derive(Clone, Debug)]
pub struct Part {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The usageType of the attachments the suite makes up.
pub const USAGE: &str = "http://conformance.example.com/attachment-usage/test";

impl Part {
    /// The statements part: `Content-Type: application/json`.
    pub fn json(value: &Value) -> Part {
        Part {
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: value.to_string().into_bytes(),
        }
    }

    /// An attachment part as Communication 1.5.2 asks: Content-Type, Content-Transfer-Encoding
    /// binary and X-Experience-API-Hash (the SHA-256 of `data`).
    pub fn attachment(data: &[u8], content_type: &str) -> Part {
        Part {
            headers: vec![
                ("Content-Type".to_owned(), content_type.to_owned()),
                ("Content-Transfer-Encoding".to_owned(), "binary".to_owned()),
                ("X-Experience-API-Hash".to_owned(), sha256_hex(data)),
            ],
            body: data.to_vec(),
        }
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The part without header `name`.
    pub fn without(mut self, name: &str) -> Part {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// The part with header `name` set to `value` (replacing any).
    pub fn with(self, name: &str, value: &str) -> Part {
        let mut part = self.without(name);
        part.headers.push((name.to_owned(), value.to_owned()));
        part
    }
}

/// An attachment object (Data 2.4.11) describing `data`; `file_url` adds a fileUrl.
pub fn attachment_object(data: &[u8], content_type: &str, file_url: Option<&str>) -> Value {
    let mut object = json!({
        "usageType": USAGE,
        "display": { "en-US": "A conformance attachment" },
        "description": { "en-US": "Made up by the conformance suite" },
        "contentType": content_type,
        "length": data.len(),
        "sha2": sha256_hex(data),
    });
    if let Some(url) = file_url {
        object["fileUrl"] = json!(url);
    }
    object
}

/// `multipart/mixed; boundary="…"`.
pub fn content_type(boundary: &str) -> String {
    format!("multipart/mixed; boundary=\"{boundary}\"")
}

/// The body of `parts` framed by `boundary` (RFC 2046 5.1.1): each part opens with
/// `--boundary` CRLF, its headers, an empty line and its body; the close delimiter ends it.
pub fn body(boundary: &str, parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        for (name, value) in &part.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&part.body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// The `boundary` parameter of a multipart Content-Type header, unquoted.
pub fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim();
        let unquoted = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        Some(unquoted.to_owned())
    })
}

/// Splits a multipart body into its parts (preamble and epilogue ignored).
pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, String> {
    let boundary = boundary_of(content_type)
        .ok_or_else(|| format!("the Content-Type {content_type:?} has no boundary"))?;
    let opening = format!("--{boundary}");
    let delimiter = format!("\r\n--{boundary}");
    let mut at = if body.starts_with(opening.as_bytes()) {
        opening.len()
    } else {
        find(body, delimiter.as_bytes(), 0)
            .map(|i| i + delimiter.len())
            .ok_or("the body has no boundary delimiter")?
    };
    let mut parts = Vec::new();
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        let line_end = find(body, b"\r\n", at).ok_or("a delimiter line does not end")?;
        let head_start = line_end + 2;
        let (headers, body_start) = if body[head_start..].starts_with(b"\r\n") {
            (Vec::new(), head_start + 2)
        } else {
            let head_end =
                find(body, b"\r\n\r\n", head_start).ok_or("a part's headers do not end")?;
            (parse_headers(&body[head_start..head_end])?, head_end + 4)
        };
        let end = find(body, delimiter.as_bytes(), body_start)
            .ok_or("the body ends without a close delimiter")?;
        parts.push(Part {
            headers,
            body: body[body_start..end].to_vec(),
        });
        at = end + delimiter.len();
    }
}

fn parse_headers(block: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = String::from_utf8_lossy(block);
    text.split("\r\n")
        .map(|line| {
            line.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| format!("a part header line is not `name: value`: {line:?}"))
        })
        .collect()
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Lowercase hex SHA-256, as attachment `sha2` values and X-Experience-API-Hash carry.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn body_then_parse_round_trips() {
        let parts = vec![
            Part::json(&json!({ "a": 1 })),
            Part::attachment(b"line one\r\n--not-the-boundary\r\n", "text/plain"),
            Part::attachment(&[0, 13, 10, 255], "application/octet-stream"),
        ];
        let boundary = "b0undary'()+_,-./:=?";
        let bytes = body(boundary, &parts);
        let parsed = parse(&content_type(boundary), &bytes).unwrap();
        assert_eq!(parsed.len(), 3);
        for (sent, got) in parts.iter().zip(&parsed) {
            assert_eq!(sent.body, got.body);
            assert_eq!(sent.headers, got.headers);
        }
    }

    #[test]
    fn preamble_and_empty_part() {
        let bytes = b"preamble\r\n--b\r\nX: 1\r\n\r\n\r\n--b\r\n\r\nbody\r\n--b--";
        let parsed = parse("multipart/mixed; boundary=b", bytes).unwrap();
        assert_eq!(parsed.len(), 2);
        assert!(parsed[0].body.is_empty());
        assert_eq!(parsed[0].header("x"), Some("1"));
        assert_eq!(parsed[1].body, b"body");
    }

    #[test]
    fn sha256_of_the_spec_example() {
        // Communication 1.5.2 example: "here is a simple attachment".
        assert_eq!(
            sha256_hex(b"here is a simple attachment"),
            "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"
        );
    }
}
