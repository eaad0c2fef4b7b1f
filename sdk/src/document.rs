//! Typed reads of the tenant's flattened policy document.

use crate::api::types::{PluginError, PolicyDocument};

/// A view of a policy document (`passcode.min-length` = `6`, ...).
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    entries: &'a PolicyDocument,
}

impl<'a> Document<'a> {
    /// View `entries`.
    pub fn new(entries: &'a PolicyDocument) -> Document<'a> {
        Document { entries }
    }

    /// The raw value of `key` (the last one wins if repeated).
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// An integer, `default` when absent; an error naming the key when malformed.
    pub fn u32(&self, key: &str, default: u32) -> Result<u32, PluginError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| invalid(key, "an integer")),
        }
    }

    /// A small integer, `default` when absent.
    pub fn u8(&self, key: &str, default: u8) -> Result<u8, PluginError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| invalid(key, "an integer from 0 to 255")),
        }
    }

    /// A flag (`true`/`false`), `default` when absent.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool, PluginError> {
        match self.get(key).map(str::trim) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(_) => Err(invalid(key, "true or false")),
        }
    }

    /// A string, `default` when absent.
    pub fn str(&self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }
}

fn invalid(key: &str, what: &str) -> PluginError {
    PluginError::InvalidInput(format!("policy document: `{key}` must be {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_reads() {
        let entries = vec![
            ("passcode.min-length".to_owned(), "6".to_owned()),
            ("lobby".to_owned(), "true".to_owned()),
            ("bad".to_owned(), "six".to_owned()),
        ];
        let d = Document::new(&entries);
        assert_eq!(d.u32("passcode.min-length", 4), Ok(6));
        assert_eq!(d.u32("absent", 4), Ok(4));
        assert_eq!(d.bool("lobby", false), Ok(true));
        assert!(d.u8("bad", 1).is_err());
    }
}
