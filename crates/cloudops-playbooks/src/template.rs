//! The `{{ name }}` templates of playbooks: parsed once for validation and for rendering.
//! There is no logic in templates — names, one optional filter, nothing else.

use std::fmt;

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    Variable(Variable<'a>),
}

/// A `{{ name | filter }}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Variable<'a> {
    pub name: &'a str,
    pub filter: Option<Filter>,
}

/// The filters templates may apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    /// `postgres` → `PostgreSQL`, `aurora-mysql` → `Aurora MySQL`.
    EngineName,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits `template` into text and variables.
pub(crate) fn parse(template: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            pieces.push(Piece::Text(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| TemplateError(format!("unclosed {{{{ in {template:?}")))?;
        let inside = after[..end].trim();
        let (name, filter) = match inside.split_once('|') {
            Some((name, filter)) => (name.trim(), Some(filter.trim())),
            None => (inside, None),
        };
        let valid_name = !name.is_empty()
            && name.split('.').all(|part| {
                !part.is_empty()
                    && part.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
                    })
            });
        if !valid_name {
            return Err(TemplateError(format!("invalid variable {inside:?} in {template:?}")));
        }
        let filter = match filter {
            None => None,
            Some("engine_name") => Some(Filter::EngineName),
            Some(other) => {
                return Err(TemplateError(format!(
                    "unknown filter {other:?} in {template:?}; the only filter is engine_name"
                )));
            }
        };
        pieces.push(Piece::Variable(Variable { name, filter }));
        rest = &after[end + 2..];
    }
    if rest.contains("}}") {
        return Err(TemplateError(format!("stray }}}} in {template:?}")));
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// Applies a filter to a value.
pub(crate) fn apply(filter: Filter, value: &str) -> String {
    match filter {
        Filter::EngineName => engine_name(value),
    }
}

fn engine_name(engine: &str) -> String {
    let known = [
        ("aurora-postgresql", "Aurora PostgreSQL"),
        ("aurora-mysql", "Aurora MySQL"),
        ("aurora", "Aurora MySQL"),
        ("postgres", "PostgreSQL"),
        ("mysql", "MySQL"),
        ("mariadb", "MariaDB"),
        ("oracle-ee", "Oracle EE"),
        ("oracle-se2", "Oracle SE2"),
        ("sqlserver-ee", "SQL Server EE"),
        ("sqlserver-se", "SQL Server SE"),
        ("sqlserver-ex", "SQL Server Express"),
        ("sqlserver-web", "SQL Server Web"),
        ("db2-se", "Db2 SE"),
        ("db2-ae", "Db2 AE"),
    ];
    known
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(engine))
        .map_or_else(|| engine.to_owned(), |(_, name)| (*name).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(template: &str, expected: &[&str]) {
        let pieces = parse(template).expect("valid template");
        let shown: Vec<String> = pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => format!("text:{text}"),
                Piece::Variable(v) => {
                    format!("var:{}{}", v.name, if v.filter.is_some() { "|f" } else { "" })
                }
            })
            .collect();
        assert_eq!(shown, expected);
    }

    #[test]
    fn parses_text_variables_and_filters() {
        check("plain", &["text:plain"]);
        check("{{ id }}", &["var:id"]);
        check("a {{id}} b", &["text:a ", "var:id", "text: b"]);
        check("{{ engine | engine_name }}!", &["var:engine|f", "text:!"]);
        check("{{ steps.create.image_id }}", &["var:steps.create.image_id"]);
    }

    #[test]
    fn refuses_what_is_not_a_name() {
        for bad in
            ["{{ id", "id }}", "{{ }}", "{{ Id }}", "{{ a b }}", "{{ id | upper }}", "{{ a..b }}"]
        {
            assert!(parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn names_engines() {
        assert_eq!(apply(Filter::EngineName, "postgres"), "PostgreSQL");
        assert_eq!(apply(Filter::EngineName, "something-new"), "something-new");
    }
}
