//! JSON paths for error messages (`$[2].actor.mbox`, `$.verb.display['en-US']`), built lazily:
//! the validator carries a stack-allocated chain of segments and renders it only on error, so
//! valid statements pay nothing for it.

#[derive(Clone, Copy)]
enum Segment<'a> {
    Root(&'a str),
    Key(&'a str),
    Index(usize),
}

/// A position in a JSON document: a root prefix followed by keys and array indices.
#[derive(Clone, Copy)]
pub(crate) struct Path<'a> {
    segment: Segment<'a>,
    parent: Option<&'a Path<'a>>,
}

impl<'a> Path<'a> {
    pub(crate) fn root(prefix: &'a str) -> Path<'a> {
        Path {
            segment: Segment::Root(prefix),
            parent: None,
        }
    }

    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path {
            segment: Segment::Key(key),
            parent: Some(self),
        }
    }

    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path {
            segment: Segment::Index(index),
            parent: Some(self),
        }
    }

    pub(crate) fn render(&self) -> String {
        let mut chain = Vec::new();
        let mut current = Some(self);
        while let Some(path) = current {
            chain.push(path.segment);
            current = path.parent;
        }
        let mut out = String::new();
        for segment in chain.iter().rev() {
            match segment {
                Segment::Root(prefix) => out.push_str(prefix),
                Segment::Key(key) => push_key(&mut out, key),
                Segment::Index(index) => {
                    out.push('[');
                    out.push_str(&index.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

/// Appends `.key` for identifier-like keys and `['key']` for the rest (IRIs, language tags).
pub(crate) fn push_key(out: &mut String, key: &str) {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        out.push('.');
        out.push_str(key);
    } else {
        out.push_str("['");
        for c in key.chars() {
            if c == '\'' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push_str("']");
    }
}
