//! Tenant policy documents as admins write them: TOML, flattened to the dotted keys the
//! meeting-policy plugins read (`[passcode] min-length = 6` becomes `passcode.min-length` =
//! `6`). The host flattens with this function; plugin authors use it to test their policy with
//! the same documents (native builds only).

use crate::api::types::PolicyDocument;

/// Why a policy document is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyDocError {
    /// Not TOML.
    #[error("policy document is not valid TOML: {0}")]
    Syntax(String),
    /// A value the flat form cannot carry (arrays of tables, nested arrays).
    #[error(
        "policy document key `{0}`: only strings, numbers, booleans, tables and lists of those are allowed"
    )]
    Unsupported(String),
}

/// Flatten a TOML policy document. Lists become comma-separated values.
pub fn flatten(text: &str) -> Result<PolicyDocument, PolicyDocError> {
    let table: toml::Table =
        toml::from_str(text).map_err(|e| PolicyDocError::Syntax(e.message().to_owned()))?;
    let mut out = Vec::new();
    walk("", &table, &mut out)?;
    Ok(out)
}

fn walk(prefix: &str, table: &toml::Table, out: &mut PolicyDocument) -> Result<(), PolicyDocError> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => walk(&key, t, out)?,
            toml::Value::Array(items) => {
                let parts: Option<Vec<String>> = items.iter().map(scalar).collect();
                let parts = parts.ok_or_else(|| PolicyDocError::Unsupported(key.clone()))?;
                out.push((key, parts.join(",")));
            }
            other => out.push((
                key.clone(),
                scalar(other).ok_or(PolicyDocError::Unsupported(key))?,
            )),
        }
    }
    Ok(())
}

fn scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Datetime(d) => Some(d.to_string()),
        toml::Value::Array(_) | toml::Value::Table(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_tables_and_lists() {
        let doc = flatten("[passcode]\nmin-length = 6\nrequired = true\n[keypad]\nhelp = \"1\"\n[a.b]\nc = [1, 2]\n").unwrap();
        let get = |k: &str| {
            doc.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("passcode.min-length"), Some("6"));
        assert_eq!(get("passcode.required"), Some("true"));
        assert_eq!(get("keypad.help"), Some("1"));
        assert_eq!(get("a.b.c"), Some("1,2"));
        assert_eq!(flatten("").unwrap(), Vec::new());
    }

    #[test]
    fn refuses_what_it_cannot_carry() {
        assert!(matches!(flatten("x = "), Err(PolicyDocError::Syntax(_))));
        assert!(
            matches!(flatten("[[rules]]\na = 1\n"), Err(PolicyDocError::Unsupported(k)) if k == "rules")
        );
        assert!(matches!(
            flatten("x = [[1], [2]]"),
            Err(PolicyDocError::Unsupported(_))
        ));
    }
}
