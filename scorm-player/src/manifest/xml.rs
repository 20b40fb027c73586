//! A small, bounded XML tree for `imsmanifest.xml`, built with quick-xml.
//!
//! The tree keeps what the manifest model needs: namespace family, local name, attributes,
//! text and line. Limits on size, depth and element count are enforced while reading. No DTD
//! is processed: quick-xml never fetches or expands entities, a `<!DOCTYPE>` is ignored with a
//! warning, and any entity other than the five predefined ones and character references is an
//! error (so an internal subset cannot smuggle content in).

use std::borrow::Cow;
use std::collections::BTreeSet;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use serde::Serialize;

use crate::diagnostic::{Diagnostic, DiagnosticCode};

/// Bounds on what the manifest parser accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct XmlLimits {
    /// Largest `imsmanifest.xml`, in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting.
    pub max_depth: usize,
    /// Most elements in the document.
    pub max_elements: usize,
    /// Most attributes on one element.
    pub max_attributes: usize,
}

impl Default for XmlLimits {
    fn default() -> Self {
        // The ADL CTS manifests and a 1,000-item course stay far below these.
        Self {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 128,
            max_elements: 200_000,
            max_attributes: 64,
        }
    }
}

/// Namespace families of the manifest vocabularies; versions are told apart elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ns {
    None,
    Imscp,
    Adlcp,
    Imsss,
    Adlseq,
    Adlnav,
    Xml,
    Other,
}

#[derive(Debug, Clone)]
pub(crate) struct Element {
    pub ns: Ns,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Element>,
    pub text: String,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Attr {
    pub ns: Ns,
    pub name: String,
    pub value: String,
}

/// The parsed document: its root and every namespace URI it declares.
pub(crate) struct Document {
    pub root: Element,
    pub namespaces: BTreeSet<String>,
}

pub(crate) const FILE: &str = "imsmanifest.xml";

pub(crate) fn classify(uri: &str) -> Ns {
    let lower = uri.to_ascii_lowercase();
    if lower == "http://www.w3.org/xml/1998/namespace" {
        Ns::Xml
    } else if lower.contains("imscp") {
        Ns::Imscp
    } else if lower.contains("adlcp") {
        Ns::Adlcp
    } else if lower.contains("adlseq") {
        Ns::Adlseq
    } else if lower.contains("adlnav") {
        Ns::Adlnav
    } else if lower.trim_end_matches('/').ends_with("imsss") {
        Ns::Imsss
    } else {
        Ns::Other
    }
}

fn classify_prefix(prefix: &str) -> Ns {
    match prefix.to_ascii_lowercase().as_str() {
        "adlcp" => Ns::Adlcp,
        "imsss" => Ns::Imsss,
        "adlseq" => Ns::Adlseq,
        "adlnav" => Ns::Adlnav,
        "imscp" => Ns::Imscp,
        _ => Ns::Other,
    }
}

impl Element {
    pub(crate) fn attr(&self, ns: Ns, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns == ns && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// An unqualified attribute (the content-packaging attributes are never qualified).
    pub(crate) fn plain(&self, name: &str) -> Option<&str> {
        self.attr(Ns::None, name)
    }

    pub(crate) fn children_named<'a>(
        &'a self,
        ns: Ns,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children
            .iter()
            .filter(move |c| c.ns == ns && c.name == name)
    }

    pub(crate) fn child(&self, ns: Ns, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.ns == ns && c.name == name)
    }

    pub(crate) fn text(&self) -> &str {
        self.text.trim()
    }
}

/// Parses the manifest bytes into a tree, or reports why it cannot.
pub(crate) fn parse_document(
    bytes: &[u8],
    limits: &XmlLimits,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Document> {
    if bytes.len() > limits.max_bytes {
        diagnostics.push(Diagnostic::error(
            DiagnosticCode::XmlLimit,
            FILE,
            format!(
                "the manifest is {} bytes, more than the limit of {} bytes",
                bytes.len(),
                limits.max_bytes
            ),
        ));
        return None;
    }
    let text = match decode(bytes) {
        Ok(text) => text,
        Err(message) => {
            diagnostics.push(Diagnostic::error(
                DiagnosticCode::XmlEncoding,
                FILE,
                message,
            ));
            return None;
        }
    };
    Builder::new(&text, limits, diagnostics).run()
}

/// The parse stopped; the reason is in the diagnostics.
struct Stopped;

struct Builder<'a, 'd> {
    text: &'a str,
    reader: NsReader<&'a [u8]>,
    limits: &'a XmlLimits,
    diagnostics: &'d mut Vec<Diagnostic>,
    stack: Vec<Element>,
    root: Option<Element>,
    namespaces: BTreeSet<String>,
    elements: usize,
    undeclared_prefixes: BTreeSet<String>,
    /// (byte offset, line at that offset) of the last `line_at` answer.
    line_cursor: (usize, usize),
}

impl<'a, 'd> Builder<'a, 'd> {
    fn new(text: &'a str, limits: &'a XmlLimits, diagnostics: &'d mut Vec<Diagnostic>) -> Self {
        let mut reader = NsReader::from_str(text);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        Self {
            text,
            reader,
            limits,
            diagnostics,
            stack: Vec::new(),
            root: None,
            namespaces: BTreeSet::new(),
            elements: 0,
            undeclared_prefixes: BTreeSet::new(),
            line_cursor: (0, 1),
        }
    }

    /// The 1-based line of a byte offset. Offsets mostly grow, so newlines are counted from
    /// the last offset asked about, keeping the whole parse linear.
    fn line_at(&mut self, offset: u64) -> u32 {
        let end = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        let (from, base) = if end >= self.line_cursor.0 {
            self.line_cursor
        } else {
            (0, 1)
        };
        let newlines = self.text.as_bytes()[from..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        let line = base + newlines;
        self.line_cursor = (end, line);
        u32::try_from(line).unwrap_or(u32::MAX)
    }

    fn fail(&mut self, code: DiagnosticCode, offset: u64, message: String) -> Option<Document> {
        let line = self.line_at(offset);
        self.diagnostics
            .push(Diagnostic::error(code, format!("{FILE}:{line}"), message).at_line(line));
        None
    }

    fn stop(&mut self, code: DiagnosticCode, offset: u64, message: String) -> Stopped {
        self.fail(code, offset, message);
        Stopped
    }

    fn run(mut self) -> Option<Document> {
        loop {
            let position = self.reader.buffer_position();
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(error) => {
                    let at = self.reader.error_position();
                    return self.fail(
                        DiagnosticCode::XmlSyntax,
                        at,
                        format!("the manifest is not well-formed XML: {error}"),
                    );
                }
            };
            match event {
                Event::Start(start) => {
                    if self.open(&start, position).is_err() {
                        return None;
                    }
                }
                Event::Empty(start) => {
                    if self.open(&start, position).is_err() {
                        return None;
                    }
                    self.close();
                }
                Event::End(_) => self.close(),
                Event::Text(text) => {
                    let content = text.xml10_content();
                    self.push_text(&content);
                }
                Event::CData(data) => {
                    let content = data.xml10_content();
                    self.push_text(&content);
                }
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        Ok(None) => predefined_entity(&reference).map(str::to_owned),
                        Err(_) => None,
                    };
                    match resolved {
                        Some(value) => self.push_text(&value),
                        None => {
                            let name = reference.to_string();
                            return self.fail(
                                DiagnosticCode::XmlSyntax,
                                position,
                                format!("the entity '&{name};' is not defined (only the five XML entities and character references are allowed)"),
                            );
                        }
                    }
                }
                Event::DocType(_) => {
                    let line = self.line_at(position);
                    self.diagnostics.push(
                        Diagnostic::warning(
                            DiagnosticCode::XmlDoctype,
                            format!("{FILE}:{line}"),
                            "the <!DOCTYPE> declaration is ignored: no DTD is read and no entity it declares is expanded",
                        )
                        .at_line(line),
                    );
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if let Some(open) = self.stack.last() {
            let name = open.name.clone();
            let end = self.text.len() as u64;
            return self.fail(
                DiagnosticCode::XmlSyntax,
                end,
                format!("the document ends before <{name}> is closed"),
            );
        }
        if !self.undeclared_prefixes.is_empty() {
            let prefixes: Vec<_> = self
                .undeclared_prefixes
                .iter()
                .map(String::as_str)
                .collect();
            self.diagnostics.push(Diagnostic::warning(
                DiagnosticCode::XmlNamespace,
                FILE,
                format!("namespace prefixes used without a declaration: {}; read by their usual meaning", prefixes.join(", ")),
            ));
        }
        match self.root.take() {
            Some(root) => Some(Document {
                root,
                namespaces: self.namespaces,
            }),
            None => self.fail(
                DiagnosticCode::XmlSyntax,
                0,
                "the document has no root element".into(),
            ),
        }
    }

    fn push_text(&mut self, content: &str) {
        if let Some(current) = self.stack.last_mut() {
            current.text.push_str(content);
        }
    }

    /// Opens an element; `Err` when the parse must stop (the diagnostic is recorded).
    fn open(&mut self, start: &BytesStart<'_>, position: u64) -> Result<(), Stopped> {
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            let message = format!(
                "the manifest has more than {} elements",
                self.limits.max_elements
            );
            return Err(self.stop(DiagnosticCode::XmlLimit, position, message));
        }
        if self.stack.len() >= self.limits.max_depth {
            let message = format!(
                "elements are nested deeper than {} levels",
                self.limits.max_depth
            );
            return Err(self.stop(DiagnosticCode::XmlLimit, position, message));
        }
        if self.stack.is_empty() && self.root.is_some() {
            let message = "the document has more than one root element".to_owned();
            return Err(self.stop(DiagnosticCode::XmlSyntax, position, message));
        }
        let line = self.line_at(position);
        let qname = start.name();
        let prefix = qname.prefix().map(|p| p.as_ref().to_owned());
        let (resolved, local) = self.reader.resolver().resolve_element(qname);
        let (ns, undeclared) = namespace_of(&resolved, prefix.as_deref());
        let name = local.as_ref().to_owned();
        self.note_undeclared(undeclared);

        let mut attrs = Vec::new();
        for attribute in start.attributes() {
            let attribute = match attribute {
                Ok(attribute) => attribute,
                Err(error) => {
                    let message = format!("bad attribute on <{name}>: {error}");
                    return Err(self.stop(DiagnosticCode::XmlSyntax, position, message));
                }
            };
            if attrs.len() >= self.limits.max_attributes {
                let message = format!(
                    "<{name}> has more than {} attributes",
                    self.limits.max_attributes
                );
                return Err(self.stop(DiagnosticCode::XmlLimit, position, message));
            }
            let key = attribute.key;
            let value = match attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                Ok(value) => value.into_owned(),
                Err(error) => {
                    let message = format!("bad attribute value on <{name}>: {error}");
                    return Err(self.stop(DiagnosticCode::XmlSyntax, position, message));
                }
            };
            let raw_key = key.as_ref().to_owned();
            if raw_key == "xmlns" || raw_key.starts_with("xmlns:") {
                self.namespaces.insert(value.trim().to_owned());
                continue;
            }
            let attr_prefix = key.prefix().map(|p| p.as_ref().to_owned());
            let attr_ns = match attr_prefix.as_deref() {
                None => Ns::None,
                Some("xml") => Ns::Xml,
                Some(p) => {
                    let (resolved, _) = self.reader.resolver().resolve_attribute(key);
                    let (ns, undeclared) = namespace_of(&resolved, Some(p));
                    self.note_undeclared(undeclared);
                    ns
                }
            };
            let local = key.local_name().as_ref().to_owned();
            attrs.push(Attr {
                ns: attr_ns,
                name: local,
                value,
            });
        }
        self.stack.push(Element {
            ns,
            name,
            attrs,
            children: Vec::new(),
            text: String::new(),
            line,
        });
        Ok(())
    }

    fn note_undeclared(&mut self, prefix: Option<String>) {
        if let Some(prefix) = prefix {
            self.undeclared_prefixes.insert(prefix);
        }
    }

    fn close(&mut self) {
        let Some(element) = self.stack.pop() else {
            return;
        };
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(element),
            None => self.root = Some(element),
        }
    }
}

/// The namespace family of a resolved name, and the prefix if it was used undeclared (then
/// read by its usual meaning: `adlcp:` without `xmlns:adlcp` is common in hand-made packages).
fn namespace_of(resolved: &ResolveResult<'_>, prefix: Option<&str>) -> (Ns, Option<String>) {
    match resolved {
        ResolveResult::Bound(ns) => (classify(ns.as_ref()), None),
        ResolveResult::Unbound => (Ns::None, None),
        ResolveResult::Unknown(_) => {
            let prefix = prefix.unwrap_or_default();
            if prefix == "xml" {
                return (Ns::Xml, None);
            }
            (classify_prefix(prefix), Some(prefix.to_owned()))
        }
    }
}

fn predefined_entity(name: &str) -> Option<&'static str> {
    match name {
        "lt" => Some("<"),
        "gt" => Some(">"),
        "amp" => Some("&"),
        "apos" => Some("'"),
        "quot" => Some("\""),
        _ => None,
    }
}

/// Turns the manifest bytes into UTF-8: BOMs for UTF-8 and UTF-16, and the single-byte
/// Western encodings that authoring tools still declare (ISO-8859-1, windows-1252).
pub(crate) fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, String> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return std::str::from_utf8(rest)
            .map(Cow::Borrowed)
            .map_err(|e| format!("the manifest is not valid UTF-8: {e}"));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return decode_utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return decode_utf16(rest, u16::from_be_bytes);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        // Valid UTF-8 wins over a declaration: mislabelled UTF-8 files are common and the
        // ASCII subset reads the same either way.
        return Ok(Cow::Borrowed(text));
    }
    match declared_encoding(bytes).as_deref() {
        Some("iso-8859-1" | "latin1" | "iso_8859-1" | "l1") => {
            Ok(Cow::Owned(bytes.iter().map(|b| char::from(*b)).collect()))
        }
        Some("windows-1252" | "cp1252") => {
            Ok(Cow::Owned(bytes.iter().map(|b| windows_1252(*b)).collect()))
        }
        Some(other) => Err(format!(
            "the manifest declares encoding '{other}', which is not supported (use UTF-8)"
        )),
        None => Err("the manifest is not valid UTF-8 and declares no other encoding".into()),
    }
}

fn decode_utf16(bytes: &[u8], word: fn([u8; 2]) -> u16) -> Result<Cow<'static, str>, String> {
    if !bytes.len().is_multiple_of(2) {
        return Err("the manifest is UTF-16 with an odd number of bytes".into());
    }
    let units = bytes.chunks_exact(2).map(|pair| word([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map(Cow::Owned)
        .map_err(|e| format!("the manifest is not valid UTF-16: {e}"))
}

fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256)];
    let head: String = head
        .iter()
        .take_while(|b| **b != b'>')
        .map(|b| char::from(*b))
        .collect();
    if !head.starts_with("<?xml") {
        return None;
    }
    let at = head.find("encoding")?;
    let rest = head[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = rest[1..].split(quote).next()?;
    Some(value.trim().to_ascii_lowercase())
}

fn windows_1252(byte: u8) -> char {
    const HIGH: [u16; 32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ];
    match byte {
        0x80..=0x9F => char::from_u32(u32::from(HIGH[usize::from(byte - 0x80)]))
            .unwrap_or(char::REPLACEMENT_CHARACTER),
        other => char::from(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> (Option<Document>, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let document = parse_document(xml.as_bytes(), &XmlLimits::default(), &mut diagnostics);
        (document, diagnostics)
    }

    #[test]
    fn builds_a_namespaced_tree() {
        let (document, diagnostics) = parse(
            r#"<?xml version="1.0"?>
<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" identifier="M">
  <resources xml:base="a/"><resource adlcp:scormType="sco" href="x &amp; y.html">t&#65;&lt;</resource></resources>
</manifest>"#,
        );
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let document = document.expect("document");
        assert_eq!(document.root.ns, Ns::Imscp);
        let resources = &document.root.children[0];
        assert_eq!(resources.attr(Ns::Xml, "base"), Some("a/"));
        let resource = &resources.children[0];
        assert_eq!(resource.attr(Ns::Adlcp, "scormType"), Some("sco"));
        assert_eq!(resource.plain("href"), Some("x & y.html"));
        assert_eq!(resource.text(), "tA<");
        assert_eq!(resource.line, 3);
    }

    #[test]
    fn doctype_is_ignored_and_its_entities_are_not_expanded() {
        let (document, diagnostics) = parse(
            r#"<!DOCTYPE manifest [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><manifest>&xxe;</manifest>"#,
        );
        assert!(document.is_none());
        assert_eq!(diagnostics[0].code, DiagnosticCode::XmlDoctype);
        assert_eq!(diagnostics[1].code, DiagnosticCode::XmlSyntax);
    }

    #[test]
    fn limits_stop_the_parse() {
        let deep = "<a>".repeat(200) + &"</a>".repeat(200);
        let (document, diagnostics) = parse(&deep);
        assert!(document.is_none());
        assert_eq!(diagnostics[0].code, DiagnosticCode::XmlLimit);
        let wide = format!("<a>{}</a>", "<b/>".repeat(10));
        let mut diagnostics = Vec::new();
        let limits = XmlLimits {
            max_elements: 5,
            ..XmlLimits::default()
        };
        assert!(parse_document(wide.as_bytes(), &limits, &mut diagnostics).is_none());
        assert_eq!(diagnostics[0].code, DiagnosticCode::XmlLimit);
    }

    #[test]
    fn malformed_documents_are_diagnosed() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "<a x='1' x='2'/>",
            "<a>&bogus;</a>",
            "not xml",
        ] {
            let (document, diagnostics) = parse(bad);
            assert!(document.is_none(), "{bad:?} parsed");
            assert!(!diagnostics.is_empty(), "{bad:?} had no diagnostic");
        }
    }

    #[test]
    fn decodes_bom_and_latin1() {
        assert_eq!(decode(b"\xEF\xBB\xBF<a/>").expect("utf8"), "<a/>");
        assert_eq!(decode(b"\xFF\xFE<\0a\0/\0>\0").expect("utf16"), "<a/>");
        let latin = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>caf\xE9</a>";
        assert!(decode(latin).expect("latin1").contains("caf\u{e9}"));
        let cp = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\x92</a>";
        assert!(decode(cp).expect("cp1252").contains('\u{2019}'));
        assert!(decode(b"<a>\xE9</a>").is_err());
    }
}
