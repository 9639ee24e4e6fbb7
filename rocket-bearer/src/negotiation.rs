//! Which error body a client prefers: RFC 9457 problem details or the plain
//! JSON message, decided by the quality values of its `Accept` header
//! (RFC 9110 §12.5.1).
//!
//! Rocket's own `Accept` parser is not used here. It refuses a whole header
//! for one empty or malformed element (RFC 9110 §5.6.1 asks recipients to
//! skip empty elements), reads `q` only as the first parameter, and takes a
//! `q` longer than five characters as 1.

use rocket::http::HeaderMap;

/// Whether `Accept` gives `application/problem+json` a higher q than
/// `application/json`. Each type takes the q of the most specific range that
/// matches it, the first of equally specific ones; a type that no range
/// matches has q 0. Ties, no `Accept`, and one with no valid range mean no.
/// Several `Accept` headers are one list, in order; malformed elements are
/// skipped.
pub(crate) fn prefers_problem_details(headers: &HeaderMap<'_>) -> bool {
    let quality = |subtype| quality(headers.get("Accept"), "application", subtype);
    quality("problem+json") > quality("json")
}

/// The q that the `Accept` values give `top/sub`.
fn quality<'a>(values: impl Iterator<Item = &'a str>, top: &str, sub: &str) -> f32 {
    let mut best: Option<(Specificity, f32)> = None;
    let ranges = values
        .flat_map(|value| split_unquoted(value, ','))
        .filter_map(MediaRange::parse);
    for range in ranges {
        if let Some(specificity) = range.matches(top, sub)
            && best.is_none_or(|(best, _)| specificity > best)
        {
            best = Some((specificity, range.q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// How closely a range matches a type: `*/*`, `type/*`, `type/subtype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Specificity {
    Any,
    Subtypes,
    Exact,
}

/// One element of an `Accept` list: `media-range [ weight ]`.
#[derive(Debug, PartialEq)]
struct MediaRange<'a> {
    top: &'a str,
    sub: &'a str,
    /// Parameters other than `q`: a range with them matches only a type
    /// with the same parameters (RFC 9110 §12.5.1), and the two types
    /// negotiated here have none.
    has_parameters: bool,
    q: f32,
}

impl<'a> MediaRange<'a> {
    /// `None` for an empty or malformed element.
    fn parse(element: &'a str) -> Option<MediaRange<'a>> {
        let mut parts = split_unquoted(element, ';').map(str::trim);
        let (top, sub) = parts.next()?.split_once('/')?;
        if !is_token(top) || !is_token(sub) || (top == "*" && sub != "*") {
            return None;
        }
        let mut range = MediaRange {
            top,
            sub,
            has_parameters: false,
            q: 1.0,
        };
        for parameter in parts.filter(|parameter| !parameter.is_empty()) {
            let (name, value) = parameter.split_once('=')?;
            if name.eq_ignore_ascii_case("q") {
                range.q = qvalue(value)?;
                break;
            }
            range.has_parameters = true;
        }
        Some(range)
    }

    fn matches(&self, top: &str, sub: &str) -> Option<Specificity> {
        if self.has_parameters {
            return None;
        }
        match (self.top, self.sub) {
            ("*", "*") => Some(Specificity::Any),
            (t, "*") if t.eq_ignore_ascii_case(top) => Some(Specificity::Subtypes),
            (t, s) if t.eq_ignore_ascii_case(top) && s.eq_ignore_ascii_case(sub) => {
                Some(Specificity::Exact)
            }
            _ => None,
        }
    }
}

/// `token = 1*tchar` (RFC 9110 §5.6.2).
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`
/// (RFC 9110 §12.4.2).
fn qvalue(text: &str) -> Option<f32> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = fraction.len() <= 3 && fraction.bytes().all(|b| b.is_ascii_digit());
    let valid = match whole {
        "0" => digits,
        "1" => digits && fraction.bytes().all(|b| b == b'0'),
        _ => false,
    };
    valid.then(|| text.parse().ok()).flatten()
}

/// Splits `text` at each `separator` outside a quoted-string (RFC 9110
/// §5.6.4), so that a parameter such as `a=";,"` stays whole.
fn split_unquoted(text: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        let (mut quoted, mut escaped) = (false, false);
        for (at, c) in current.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                c if c == separator && !quoted => {
                    rest = Some(&current[at + c.len_utf8()..]);
                    return Some(&current[..at]);
                }
                _ => {}
            }
        }
        rest = None;
        Some(current)
    })
}

#[cfg(test)]
mod tests {
    use super::{MediaRange, qvalue, split_unquoted};

    #[test]
    fn qvalue_follows_the_rfc_grammar() {
        for (text, q) in [("0", 0.0), ("0.5", 0.5), ("0.123", 0.123), ("1", 1.0)] {
            assert_eq!(qvalue(text), Some(q), "{text}");
        }
        for text in ["1.000", "1."] {
            assert_eq!(qvalue(text), Some(1.0), "{text}");
        }
        for text in ["1.5", "1.001", "0.1234", "2", ".5", "-0", "abc", ""] {
            assert_eq!(qvalue(text), None, "{text}");
        }
    }

    #[test]
    fn a_media_range_keeps_its_q_and_notes_other_parameters() {
        let range = |top, sub, has_parameters, q| MediaRange {
            top,
            sub,
            has_parameters,
            q,
        };
        let cases = [
            ("application/json", range("application", "json", false, 1.0)),
            (" text/* ; q=0.5 ", range("text", "*", false, 0.5)),
            ("*/*;Q=0", range("*", "*", false, 0.0)),
            ("a/b;;q=0.1", range("a", "b", false, 0.1)),
            ("a/b;v=2;q=0.1", range("a", "b", true, 0.1)),
            ("a/b;q=0.1;v=2", range("a", "b", false, 0.1)),
            ("a/b;x=\";,\"", range("a", "b", true, 1.0)),
        ];
        for (element, expected) in cases {
            assert_eq!(MediaRange::parse(element), Some(expected), "{element}");
        }
        for element in [
            "", " ", "json", "*/json", "a/b;q=2", "a/b;q", "a /b", "a/b c",
        ] {
            assert_eq!(MediaRange::parse(element), None, "{element:?}");
        }
    }

    #[test]
    fn separators_inside_quotes_do_not_split() {
        let parts: Vec<&str> = split_unquoted(r#"a;b="x;\";y";c"#, ';').collect();
        assert_eq!(parts, ["a", r#"b="x;\";y""#, "c"]);
        let parts: Vec<&str> = split_unquoted("a,,b,", ',').collect();
        assert_eq!(parts, ["a", "", "b", ""]);
    }
}
