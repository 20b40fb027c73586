//! Package-relative URLs: `xml:base` resolution, dot segments, percent-decoding, and the
//! launch URL with an item's `parameters` (CAM).
//!
//! A manifest `href` is a URL reference (RFC 3986), resolved against the `xml:base` of the
//! manifest, the `<resources>` and the `<resource>`, in that order (XML Base). A reference
//! without a scheme points into the package; after resolution it must not climb above the
//! package root, and its percent-decoded path is the zip entry name it needs.

/// Where a reference leads once the bases are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// Inside the package: `url` keeps query and fragment (for launching), `path` is the
    /// percent-decoded entry name without them (for the zip).
    Local { url: String, path: String },
    /// An absolute URL (`http://…`): not in the package, nothing to check.
    External { url: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HrefError {
    Empty,
    AbsolutePath,
    EscapesRoot,
    BadPercentEncoding,
}

impl HrefError {
    pub(crate) fn message(&self) -> &'static str {
        match self {
            HrefError::Empty => "the reference is empty",
            HrefError::AbsolutePath => {
                "an absolute path ('/…') cannot point into a package; references are relative to the package root"
            }
            HrefError::EscapesRoot => "the reference climbs above the package root with '..'",
            HrefError::BadPercentEncoding => {
                "the reference has invalid percent-encoding or is not UTF-8 once decoded"
            }
        }
    }
}

/// Whether the reference starts with a URL scheme (`http:`, `https:`, `mailto:` …).
pub(crate) fn has_scheme(reference: &str) -> bool {
    let Some(colon) = reference.find(':') else {
        return false;
    };
    let scheme = &reference[..colon];
    // A one-letter "scheme" is a Windows drive letter, not a URL scheme.
    scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !reference[..colon].contains('/')
}

/// Resolves `href` against the `xml:base` values from the outermost to the innermost.
pub(crate) fn resolve(bases: &[&str], href: &str) -> Result<Resolved, HrefError> {
    let href = href.trim();
    if href.is_empty() {
        return Err(HrefError::Empty);
    }
    // Browsers treat '\' as '/' in http(s) URL paths (WHATWG URL), so the package does too.
    let href = href.replace('\\', "/");
    let mut base = String::new();
    let mut external = false;
    for raw in bases {
        let raw = raw.trim().replace('\\', "/");
        if raw.is_empty() {
            continue;
        }
        if has_scheme(&raw) {
            base = raw;
            external = true;
            continue;
        }
        if external {
            base = join_external(&base, &raw);
            continue;
        }
        let path_only = strip_query_fragment(&raw);
        base = merge(&base, path_only)?;
    }
    if has_scheme(&href) {
        return Ok(Resolved::External { url: href });
    }
    if external {
        return Ok(Resolved::External {
            url: join_external(&base, &href),
        });
    }
    let (path_part, suffix) = split_query_fragment(&href);
    let merged = if path_part.is_empty() {
        // "?x=1" or "#top" alone refers to the base document itself.
        base.clone()
    } else {
        merge(&base, path_part)?
    };
    let path = percent_decode(&merged)?;
    Ok(Resolved::Local {
        url: format!("{merged}{suffix}"),
        path,
    })
}

/// Appends an item's `parameters` to a launch URL (CAM, `<item parameters>`, as ADL describes
/// it): leading `?` and `&` are dropped; a `#fragment` is appended only if the URL has
/// none; otherwise the parameters join the query with `&` or start one with `?`.
pub(crate) fn append_parameters(url: &str, parameters: &str) -> String {
    let trimmed = parameters.trim().trim_start_matches(['?', '&']);
    if trimmed.is_empty() {
        return url.to_owned();
    }
    if trimmed.starts_with('#') {
        if url.contains('#') {
            return url.to_owned();
        }
        return format!("{url}{trimmed}");
    }
    let (before_fragment, fragment) = match url.find('#') {
        Some(at) => (&url[..at], &url[at..]),
        None => (url, ""),
    };
    let separator = if before_fragment.contains('?') {
        '&'
    } else {
        '?'
    };
    format!("{before_fragment}{separator}{trimmed}{fragment}")
}

fn join_external(base: &str, reference: &str) -> String {
    if has_scheme(reference) {
        return reference.to_owned();
    }
    match base.rfind('/') {
        Some(at) if base[..at].ends_with('/') && base[..at].matches('/').count() == 2 => {
            // "http://host" without a path: the reference starts the path.
            format!("{base}/{reference}")
        }
        Some(at) => format!("{}{}", &base[..=at], reference),
        None => format!("{base}/{reference}"),
    }
}

fn strip_query_fragment(reference: &str) -> &str {
    split_query_fragment(reference).0
}

fn split_query_fragment(reference: &str) -> (&str, &str) {
    match reference.find(['?', '#']) {
        Some(at) => (&reference[..at], &reference[at..]),
        None => (reference, ""),
    }
}

/// RFC 3986 §5.2.3 merge and §5.2.4 dot-segment removal for relative path references,
/// refusing to go above the root.
fn merge(base: &str, reference: &str) -> Result<String, HrefError> {
    if reference.starts_with('/') {
        return Err(HrefError::AbsolutePath);
    }
    let directory = match base.rfind('/') {
        Some(at) => &base[..=at],
        None => "",
    };
    let joined = format!("{directory}{reference}");
    let ends_with_slash = joined.ends_with('/')
        || joined.ends_with("/.")
        || joined.ends_with("/..")
        || joined == "."
        || joined == "..";
    let mut segments: Vec<&str> = Vec::new();
    for segment in joined.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(HrefError::EscapesRoot);
                }
            }
            other => segments.push(other),
        }
    }
    let mut out = segments.join("/");
    if ends_with_slash && !out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// Decodes `%XX` escapes; the result must be UTF-8 and must not hide a separator trick
/// (`%2F`, `%5C`, NUL) or a dot segment.
pub(crate) fn percent_decode(path: &str) -> Result<String, HrefError> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = bytes
                .get(index + 1..index + 3)
                .ok_or(HrefError::BadPercentEncoding)?;
            let text = std::str::from_utf8(hex).map_err(|_| HrefError::BadPercentEncoding)?;
            let value = u8::from_str_radix(text, 16).map_err(|_| HrefError::BadPercentEncoding)?;
            if matches!(value, b'/' | b'\\' | 0) {
                return Err(HrefError::BadPercentEncoding);
            }
            out.push(value);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    let decoded = String::from_utf8(out).map_err(|_| HrefError::BadPercentEncoding)?;
    if decoded
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        return Err(HrefError::EscapesRoot);
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(bases: &[&str], href: &str) -> (String, String) {
        match resolve(bases, href) {
            Ok(Resolved::Local { url, path }) => (url, path),
            other => panic!("expected a local reference, got {other:?}"),
        }
    }

    #[test]
    fn resolves_bases_in_order() {
        assert_eq!(
            local(&["course/", "sco1/"], "index.html"),
            (
                "course/sco1/index.html".into(),
                "course/sco1/index.html".into()
            )
        );
        // RFC 3986: a base without a trailing slash names a file, its last segment is dropped.
        assert_eq!(local(&["course/a"], "b.html").1, "course/b.html");
        assert_eq!(local(&["course/"], "../x.html").1, "x.html");
        assert_eq!(
            local(&[], "a/./b/../c.html?x=1#top"),
            ("a/c.html?x=1#top".into(), "a/c.html".into())
        );
        assert_eq!(local(&[], "my%20page.html").1, "my page.html");
        assert_eq!(local(&[], "dir\\page.html").1, "dir/page.html");
    }

    #[test]
    fn refuses_escapes_and_absolute_paths() {
        assert_eq!(resolve(&[], "../x.html"), Err(HrefError::EscapesRoot));
        assert_eq!(
            resolve(&["a/"], "../../x.html"),
            Err(HrefError::EscapesRoot)
        );
        assert_eq!(resolve(&[], "/etc/passwd"), Err(HrefError::AbsolutePath));
        assert_eq!(
            resolve(&[], "a%2F..%2Fb"),
            Err(HrefError::BadPercentEncoding)
        );
        assert_eq!(resolve(&[], "%2e%2e/x"), Err(HrefError::EscapesRoot));
        assert_eq!(resolve(&[], "%zz"), Err(HrefError::BadPercentEncoding));
    }

    #[test]
    fn external_references() {
        assert_eq!(
            resolve(&[], "https://example.com/a"),
            Ok(Resolved::External {
                url: "https://example.com/a".into()
            })
        );
        assert_eq!(
            resolve(&["http://cdn.example.com/course/"], "a.html"),
            Ok(Resolved::External {
                url: "http://cdn.example.com/course/a.html".into()
            })
        );
        assert!(!has_scheme("C:/x"));
        assert!(!has_scheme("a/b:c"));
    }

    #[test]
    fn parameters_follow_the_adl_algorithm() {
        assert_eq!(append_parameters("a.html", "?x=1"), "a.html?x=1");
        assert_eq!(append_parameters("a.html?y=2", "&x=1"), "a.html?y=2&x=1");
        assert_eq!(append_parameters("a.html?y=2", "x=1"), "a.html?y=2&x=1");
        assert_eq!(append_parameters("a.html", "#p2"), "a.html#p2");
        assert_eq!(append_parameters("a.html#p1", "#p2"), "a.html#p1");
        assert_eq!(append_parameters("a.html#p1", "x=1"), "a.html?x=1#p1");
        assert_eq!(append_parameters("a.html", ""), "a.html");
    }
}
