//! The XML layer under both codecs: a bounded, namespace-aware reader that turns bytes into a
//! small owned tree ([`Element`]), and an exact writer ([`Writer`]).
//!
//! The reader resolves every name to its namespace URI (prefixes never matter), drops comments,
//! processing instructions, the declaration and a byte-order mark, folds text, CDATA and the
//! predefined and character references into one string per element, and stops with a typed
//! [`ParseError`] at the first problem or limit. It knows nothing about C3P.

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::error::{ParseError, excerpt};
use crate::ns::{Ns, Vocab};

/// Largest document the reader accepts.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;
/// Deepest element nesting the reader accepts.
pub const MAX_DEPTH: usize = 32;
/// Most elements the reader accepts in one document.
pub const MAX_ELEMENTS: usize = 50_000;
/// Longest attribute value or element text the reader accepts.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;

/// An element of a parsed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    /// Its namespace.
    pub ns: Ns,
    /// Its local name.
    pub name: String,
    attrs: Vec<Attr>,
    children: Vec<Element>,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Attr {
    ns: Ns,
    name: String,
    value: String,
}

impl Element {
    /// Whether this element is `name` in vocabulary `vocab`.
    pub(crate) fn is(&self, vocab: Vocab, name: &str) -> bool {
        self.name == name && vocab.admits(self.ns)
    }

    /// The value of the unqualified attribute `name`.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attr_ns(Ns::None, name)
    }

    /// The value of attribute `name` in namespace `ns`.
    pub(crate) fn attr_ns(&self, ns: Ns, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns == ns && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// All child elements.
    pub(crate) fn children(&self) -> impl Iterator<Item = &Element> {
        self.children.iter()
    }

    /// The first child `name` in `vocab`.
    pub(crate) fn child(&self, vocab: Vocab, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(vocab, name))
    }

    /// Every child `name` in `vocab`, in document order.
    pub(crate) fn children_named<'s>(
        &'s self,
        vocab: Vocab,
        name: &'s str,
    ) -> impl Iterator<Item = &'s Element> {
        self.children.iter().filter(move |c| c.is(vocab, name))
    }

    /// The element's text, trimmed of XML whitespace.
    pub(crate) fn text(&self) -> &str {
        self.text.trim_matches(is_xml_space)
    }

    /// The trimmed text of child `name` in `vocab`, if the child is present.
    pub(crate) fn child_text(&self, vocab: Vocab, name: &str) -> Option<&str> {
        self.child(vocab, name).map(Element::text)
    }

    fn push_text(&mut self, s: &str) -> Result<(), ParseError> {
        check_chars(s)?;
        // Leading whitespace is trimmed anyway; skipping it keeps containers allocation-free.
        if self.text.is_empty() && s.chars().all(is_xml_space) {
            return Ok(());
        }
        if self.text.len().saturating_add(s.len()) > MAX_VALUE_BYTES {
            return Err(ParseError::ValueTooLong {
                limit: MAX_VALUE_BYTES,
            });
        }
        self.text.push_str(s);
        Ok(())
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Parse a document into its root element.
pub(crate) fn parse(input: &[u8]) -> Result<Element, ParseError> {
    if input.len() > MAX_DOCUMENT_BYTES {
        return Err(ParseError::TooLarge {
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = std::str::from_utf8(input).map_err(|e| ParseError::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    TreeBuilder::default().run(&mut NsReader::from_str(text))
}

#[derive(Default)]
struct TreeBuilder {
    stack: Vec<Element>,
    root: Option<Element>,
    elements: usize,
}

impl TreeBuilder {
    fn run(mut self, reader: &mut NsReader<&[u8]>) -> Result<Element, ParseError> {
        loop {
            let (ns, event) = match reader.read_resolved_event() {
                Ok((resolved, event)) => (ns_of(&resolved), event),
                Err(e) => return Err(syntax(reader.error_position(), &e)),
            };
            match event {
                Event::Start(e) => {
                    let el = self.open(reader, ns, &e)?;
                    self.stack.push(el);
                }
                Event::Empty(e) => {
                    let el = self.open(reader, ns, &e)?;
                    self.close(el, reader)?;
                }
                Event::End(_) => match self.stack.pop() {
                    Some(el) => self.close(el, reader)?,
                    None => return Err(syntax_msg(reader, "end tag without start tag")),
                },
                Event::Text(t) => self.text(&t.xml_content(XmlVersion::Implicit1_0), reader)?,
                Event::CData(t) => self.text(&t.xml_content(XmlVersion::Implicit1_0), reader)?,
                Event::GeneralRef(r) => {
                    let resolved = r
                        .resolve_char_ref()
                        .map_err(|e| syntax(reader.error_position(), &e))?;
                    let mut buf = [0u8; 4];
                    let s = match resolved {
                        Some(c) => &*c.encode_utf8(&mut buf),
                        None => quick_xml::escape::resolve_predefined_entity(&r)
                            .ok_or(ParseError::UnsupportedEntity)?,
                    };
                    self.text(s, reader)?;
                }
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {}
                Event::Eof => break,
            }
        }
        if !self.stack.is_empty() {
            return Err(ParseError::Truncated);
        }
        self.root.ok_or(ParseError::Empty)
    }

    fn open(
        &mut self,
        reader: &NsReader<&[u8]>,
        ns: Ns,
        start: &BytesStart<'_>,
    ) -> Result<Element, ParseError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(ParseError::TooDeep { limit: MAX_DEPTH });
        }
        if self.root.is_some() {
            return Err(syntax_msg(reader, "content after the root element"));
        }
        self.elements = self.elements.saturating_add(1);
        if self.elements > MAX_ELEMENTS {
            return Err(ParseError::TooManyElements {
                limit: MAX_ELEMENTS,
            });
        }
        let mut attrs = Vec::new();
        for attr in start.attributes() {
            let attr = attr.map_err(|e| syntax(reader.buffer_position(), &e))?;
            if attr.key.as_namespace_binding().is_some() {
                continue;
            }
            if attr.value.len() > MAX_VALUE_BYTES {
                return Err(ParseError::ValueTooLong {
                    limit: MAX_VALUE_BYTES,
                });
            }
            let (resolved, local) = reader.resolver().resolve_attribute(attr.key);
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| syntax(reader.buffer_position(), &e))?;
            check_chars(&value)?;
            attrs.push(Attr {
                ns: ns_of(&resolved),
                name: local.into_inner().to_owned(),
                value: value.into_owned(),
            });
        }
        Ok(Element {
            ns,
            name: start.local_name().into_inner().to_owned(),
            attrs,
            children: Vec::new(),
            text: String::new(),
        })
    }

    fn close(&mut self, el: Element, reader: &NsReader<&[u8]>) -> Result<(), ParseError> {
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(el),
            None if self.root.is_none() => self.root = Some(el),
            None => return Err(syntax_msg(reader, "more than one root element")),
        }
        Ok(())
    }

    fn text(&mut self, s: &str, reader: &NsReader<&[u8]>) -> Result<(), ParseError> {
        match self.stack.last_mut() {
            Some(el) => el.push_text(s),
            None if s.chars().all(is_xml_space) => Ok(()),
            None => Err(syntax_msg(reader, "text outside the root element")),
        }
    }
}

/// XML 1.0 cannot carry control characters, not even as character references (WFC: Legal
/// Char); rejecting them keeps every value the reader returns writable unchanged.
fn check_chars(s: &str) -> Result<(), ParseError> {
    match s.chars().find(|c| !is_xml_char(*c)) {
        None => Ok(()),
        Some(c) => Err(ParseError::IllegalCharacter {
            code_point: u32::from(c),
        }),
    }
}

fn ns_of(resolved: &ResolveResult<'_>) -> Ns {
    match resolved {
        ResolveResult::Unbound => Ns::None,
        ResolveResult::Bound(uri) => Ns::from_uri(uri.into_inner()),
        ResolveResult::Unknown(_) => Ns::Other,
    }
}

fn syntax(offset: u64, err: &dyn std::fmt::Display) -> ParseError {
    ParseError::Syntax {
        offset,
        detail: excerpt(&err.to_string(), 200),
    }
}

fn syntax_msg(reader: &NsReader<&[u8]>, msg: &str) -> ParseError {
    syntax(reader.buffer_position(), &msg)
}

/// The writer: two-space indentation, LF line ends, attributes in the order given, `<x/>` for
/// empty elements. Text and attribute values are escaped so that the reader gives them back
/// unchanged; characters XML 1.0 cannot carry at all become U+FFFD.
pub(crate) struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    /// A writer that has written the XML declaration.
    pub(crate) fn new() -> Writer {
        let mut out = String::with_capacity(1024);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        Writer { out, depth: 0 }
    }

    /// `<name attrs…>` and a line break; `None` attributes are left out.
    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, Option<&str>)]) {
        self.tag(name, attrs);
        self.out.push_str(">\n");
        self.depth = self.depth.saturating_add(1);
    }

    /// `</name>` and a line break.
    pub(crate) fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// `<name attrs…/>`.
    pub(crate) fn empty(&mut self, name: &str, attrs: &[(&str, Option<&str>)]) {
        self.tag(name, attrs);
        self.out.push_str("/>\n");
    }

    /// `<name>text</name>`, or `<name/>` for empty text.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.leaf_attrs(name, &[], text);
    }

    /// `<name attrs…>text</name>`, or `<name attrs…/>` for empty text.
    pub(crate) fn leaf_attrs(&mut self, name: &str, attrs: &[(&str, Option<&str>)], text: &str) {
        if text.is_empty() {
            return self.empty(name, attrs);
        }
        self.tag(name, attrs);
        self.out.push('>');
        escape_into(&mut self.out, text, false);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// [`Writer::leaf`] if `text` is present.
    pub(crate) fn opt_leaf(&mut self, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.leaf(name, text);
        }
    }

    /// The document.
    pub(crate) fn finish(self) -> String {
        self.out
    }

    fn tag(&mut self, name: &str, attrs: &[(&str, Option<&str>)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            if let Some(value) = value {
                self.out.push(' ');
                self.out.push_str(key);
                self.out.push_str("=\"");
                escape_into(&mut self.out, value, true);
                self.out.push('"');
            }
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }
}

fn escape_into(out: &mut String, s: &str, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\t' if attr => out.push_str("&#9;"),
            '\n' if attr => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// Whether XML 1.0 can carry `c` (the `Char` production).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// xs:boolean: `true`/`false`/`1`/`0`, surrounding whitespace ignored.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.trim_matches(is_xml_space) {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// The xs:boolean lexical form we write.
pub(crate) fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_folds_text_refs_and_cdata() {
        let el = parse(b"<a xmlns='urn:x'> x &amp; <![CDATA[<y>]]>&#65;\r\n</a>").unwrap();
        let illegal = |code_point| Err(ParseError::IllegalCharacter { code_point });
        assert_eq!(parse(b"<a>&#1;</a>"), illegal(1));
        assert_eq!(parse(b"<a b='&#x1F;'/>"), illegal(0x1F));
        assert_eq!(parse(b"<a>\x07</a>"), illegal(7));
        assert_eq!(el.text(), "x & <y>A");
        assert_eq!(el.ns, Ns::Other);
    }

    #[test]
    fn prefixes_do_not_matter() {
        let doc = br#"<p:request xmlns:p="urn:ietf:params:xml:ns:cccp" p:x="1" y="2"/>"#;
        let el = parse(doc).unwrap();
        assert!(el.is(Vocab::Cccp, "request"));
        assert_eq!(el.attr("y"), Some("2"));
        assert_eq!(el.attr("x"), None);
        assert_eq!(el.attr_ns(Ns::Cccp, "x"), Some("1"));
    }

    #[test]
    fn limits_and_errors() {
        assert_eq!(parse(b""), Err(ParseError::Empty));
        assert_eq!(parse(b"<a>"), Err(ParseError::Truncated));
        assert_eq!(parse(b"<a>&foo;</a>"), Err(ParseError::UnsupportedEntity));
        assert!(matches!(parse(b"<a/><b/>"), Err(ParseError::Syntax { .. })));
        assert!(matches!(parse(b"<a></b>"), Err(ParseError::Syntax { .. })));
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert_eq!(
            parse(deep.as_bytes()),
            Err(ParseError::TooDeep { limit: MAX_DEPTH })
        );
        assert_eq!(
            parse(b"\xff<a/>"),
            Err(ParseError::NotUtf8 { valid_up_to: 0 })
        );
    }

    #[test]
    fn writer_escapes_so_reader_gives_back() {
        let tricky = "a&b<c>\"d'\te\nf\rg\u{1}h";
        let mut w = Writer::new();
        w.open("r", &[("v", Some(tricky))]);
        w.leaf("t", tricky);
        w.close("r");
        let doc = w.finish();
        let el = parse(doc.as_bytes()).unwrap();
        let expected: String = tricky
            .chars()
            .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
            .collect();
        assert_eq!(el.attr("v"), Some(expected.as_str()));
        assert_eq!(el.child_text(Vocab::Cccp, "t"), Some(expected.as_str()));
    }
}
