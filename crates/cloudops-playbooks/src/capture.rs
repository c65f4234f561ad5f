//! Capture expressions: how a step names a value in its JSON output for later steps.
//!
//! Playbooks write captures as JMESPath, but only a small subset that the executor can
//! evaluate itself, without a JMESPath engine: field names joined by `.`, each optionally
//! followed by integer indexes (`ImageId`, `Images[0].ImageId`, `Versions[-1].Version`).
//! The validator refuses anything else, so a loaded playbook's captures always parse.

use std::fmt;

use serde_json::Value;

/// The longest capture expression accepted; real ones are a few dozen characters.
const MAX_EXPRESSION_BYTES: usize = 256;

/// A parsed capture expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturePath {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// An object member.
    Field(String),
    /// An array element; negative counts from the end (`-1` is the last).
    Index(i64),
}

impl CapturePath {
    /// Parses `expr`, or says why it is outside the supported subset.
    pub fn parse(expr: &str) -> Result<CapturePath, String> {
        const HINT: &str = "a capture is field names joined by '.', each optionally followed by \
                            integer indexes, like Images[0].ImageId or Versions[-1].Version";
        if expr.is_empty() {
            return Err(format!("the capture expression is empty; {HINT}"));
        }
        if expr.len() > MAX_EXPRESSION_BYTES {
            return Err(format!(
                "the capture expression is longer than {MAX_EXPRESSION_BYTES} bytes; {HINT}"
            ));
        }
        let unsupported = || format!("{expr:?} is not a supported capture expression; {HINT}");
        let mut segments = Vec::new();
        for part in expr.split('.') {
            // `Images[0][1]`: the field name, then its indexes.
            let (name, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
            if !is_identifier(name) {
                return Err(unsupported());
            }
            segments.push(Segment::Field(name.to_owned()));
            while !rest.is_empty() {
                let Some((index, after)) =
                    rest.strip_prefix('[').and_then(|inner| inner.split_once(']'))
                else {
                    return Err(unsupported());
                };
                let digits = index.strip_prefix('-').unwrap_or(index);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(unsupported());
                }
                let index: i64 = index.parse().map_err(|_| unsupported())?;
                segments.push(Segment::Index(index));
                rest = after;
            }
        }
        Ok(CapturePath { segments })
    }

    /// The value at this path in `value`, as the text an argument would carry: a string as
    /// itself, a number or boolean written out; `None` when the path leads nowhere or to
    /// null, an array or an object.
    pub fn evaluate(&self, value: &Value) -> Option<String> {
        let mut current = value;
        for segment in &self.segments {
            current = match segment {
                Segment::Field(name) => current.as_object()?.get(name)?,
                Segment::Index(index) => {
                    let items = current.as_array()?;
                    let position = if *index < 0 {
                        let from_end = usize::try_from(index.unsigned_abs()).ok()?;
                        items.len().checked_sub(from_end)?
                    } else {
                        usize::try_from(*index).ok()?
                    };
                    items.get(position)?
                }
            };
        }
        match current {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            Value::Null | Value::Array(_) | Value::Object(_) => None,
        }
    }
}

impl fmt::Display for CapturePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Field(name) if position == 0 => f.write_str(name)?,
                Segment::Field(name) => write!(f, ".{name}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A JMESPath unquoted identifier: a letter or `_`, then letters, digits and `_`.
fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(expr: &str, value: Value, expected: Option<&str>) {
        let path = CapturePath::parse(expr).expect("a supported expression");
        assert_eq!(path.to_string(), expr, "round trip");
        assert_eq!(path.evaluate(&value).as_deref(), expected, "{expr} in {value}");
    }

    #[test]
    fn evaluates_the_subset_the_library_uses() {
        check("ImageId", json!({"ImageId": "ami-0123"}), Some("ami-0123"));
        check("Images[0].ImageId", json!({"Images": [{"ImageId": "ami-1"}, {}]}), Some("ami-1"));
        check(
            "Versions[-1].Version",
            json!({"Versions": [{"Version": "$LATEST"}, {"Version": "7"}]}),
            Some("7"),
        );
        check("Matrix[1][0]", json!({"Matrix": [[1], [2, 3]]}), Some("2"));
        check("Config.MemorySize", json!({"Config": {"MemorySize": 512}}), Some("512"));
        check("Enabled", json!({"Enabled": false}), Some("false"));
        check("_private_1", json!({"_private_1": "x"}), Some("x"));
    }

    #[test]
    fn leads_nowhere_without_panicking() {
        check("ImageId", json!({}), None);
        check("ImageId", json!(["ImageId"]), None);
        check("ImageId", json!({"ImageId": null}), None);
        check("Images", json!({"Images": []}), None);
        check("Images", json!({"Images": {"a": 1}}), None);
        check("Images[0]", json!({"Images": []}), None);
        check("Images[-1]", json!({"Images": []}), None);
        check("Images[-3]", json!({"Images": [1, 2]}), None);
        check("Images[2]", json!({"Images": [1, 2]}), None);
        check("Images[0]", json!({"Images": {"0": 1}}), None);
        check("Images[-9223372036854775808]", json!({"Images": [1]}), None);
        check("Images[9223372036854775807]", json!({"Images": [1]}), None);
    }

    #[test]
    fn refuses_what_is_outside_the_subset() {
        for bad in [
            "",
            " ImageId",
            "ImageId ",
            "Images[0] .ImageId",
            ".ImageId",
            "ImageId.",
            "Images..ImageId",
            "Images[]",
            "Images[*].ImageId",
            "Images[0:2]",
            "Images[+1]",
            "Images[1",
            "Images]1[",
            "Images[0]x",
            "[0].ImageId",
            "1Image",
            "Image-Id",
            "\"Image Id\"",
            "length(Contents)",
            "Images | [0]",
            "Images[?State=='available']",
            "@",
            "Images[99999999999999999999]",
            "Imagé",
        ] {
            let error = CapturePath::parse(bad).expect_err(bad);
            assert!(error.contains("Images[0].ImageId"), "{bad}: {error}");
        }
        assert!(CapturePath::parse(&"a.".repeat(200)).is_err());
    }
}
