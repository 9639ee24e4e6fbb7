//! The `Accept` headers the properties send, and a model of the contract's
//! q-value rule that says which error body each one gets: written from
//! docs/CONTRACT.md, never from the library's parser. Shared by the suites
//! that send them: `tests/api` through Rocket's local client, `tests/e2e`
//! over the wire.

use proptest::prelude::{Strategy, prop_oneof};
use proptest::sample::select;

/// An `Accept` range that counts, with its q, as the test wrote it.
#[derive(Debug, Clone)]
struct Weighed {
    range: &'static str,
    q: f64,
}

impl Weighed {
    /// How specifically this range matches `media_type`, if it does.
    fn specificity(&self, media_type: &str) -> Option<u8> {
        let (kind, _) = media_type.split_once('/').unwrap_or_default();
        match self.range {
            "*/*" => Some(1),
            range if range == format!("{kind}/*") => Some(2),
            range if range == media_type => Some(3),
            _ => None,
        }
    }
}

/// An `Accept` header as the test sent it: the ranges that count, and the
/// header values (one or several headers, read as one list).
#[derive(Debug, Clone)]
pub struct Accept {
    weighed: Vec<Weighed>,
    /// The header values, in order: one `Accept` header each.
    pub values: Vec<String>,
}

impl Accept {
    /// RFC 9110 §12.5.1: the q of the most specific range that matches, the
    /// first of equally specific ones; 0 when none does.
    fn quality(&self, media_type: &str) -> f64 {
        let mut best: Option<(u8, f64)> = None;
        for range in &self.weighed {
            if let Some(specificity) = range.specificity(media_type)
                && best.is_none_or(|(most, _)| specificity > most)
            {
                best = Some((specificity, range.q));
            }
        }
        best.map_or(0.0, |(_, q)| q)
    }
}

/// Whether the contract gives this client problem details: only when its
/// `Accept` gives `application/problem+json` a higher q than
/// `application/json`. No `Accept` means the plain body.
pub fn prefers_problem(accept: &Option<Accept>) -> bool {
    accept.as_ref().is_some_and(|accept| {
        accept.quality("application/problem+json") > accept.quality("application/json")
    })
}

/// The letter case a range is written in: RFC 9110 §8.3.1 makes type and
/// subtype case-insensitive.
#[derive(Debug, Clone, Copy)]
enum Case {
    Lower,
    Upper,
    Alternating,
}

fn spell(range: &str, case: Case) -> String {
    match case {
        Case::Lower => range.to_owned(),
        Case::Upper => range.to_ascii_uppercase(),
        Case::Alternating => range
            .char_indices()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect(),
    }
}

const RANGES: [&str; 7] = [
    "application/json",
    "application/problem+json",
    "application/*",
    "*/*",
    "text/html",
    "text/*",
    "application/xml",
];

/// `weight = OWS ";" OWS "q=" qvalue` (RFC 9110 §12.4.2), the parameter
/// name in any case.
const WEIGHT: [&str; 5] = [";q=", " ; q=", ";Q=", "; q=", ";\tq="];

/// Each valid spelling of a qvalue, with its value.
const QVALUES: [(&str, f64); 11] = [
    ("1", 1.0),
    ("1.", 1.0),
    ("1.0", 1.0),
    ("1.000", 1.0),
    ("0.9", 0.9),
    ("0.5", 0.5),
    ("0.50", 0.5),
    ("0.001", 0.001),
    ("0", 0.0),
    ("0.", 0.0),
    ("0.000", 0.0),
];

/// Outside the qvalue grammar: the element carrying one is malformed.
const BAD_QVALUES: [&str; 10] = [
    "2", "1.5", "1.001", "0.1234", ".5", "-0", "abc", "", "1.0000", "0.5x",
];

/// One element of an `Accept` list: the range it adds to the model, or
/// `None` for one that counts for neither type.
fn element() -> impl Strategy<Value = (Option<Weighed>, String)> {
    let weighed = (
        select(RANGES.to_vec()),
        select(vec![Case::Lower, Case::Upper, Case::Alternating]),
        proptest::option::of((select(WEIGHT.to_vec()), select(QVALUES.to_vec()))),
    )
        .prop_map(|(range, case, weight)| {
            let mut text = spell(range, case);
            let q = match weight {
                Some((equals, (qvalue, q))) => {
                    text.push_str(equals);
                    text.push_str(qvalue);
                    q
                }
                None => 1.0,
            };
            (Some(Weighed { range, q }), text)
        });
    // A range with a parameter matches only a type with the same
    // parameter (RFC 9110 §12.5.1); the two types negotiated have none.
    let parameterised = (
        select(vec![
            "application/json;charset=utf-8",
            "application/problem+json;v=2",
            "application/* ;level=1",
            "*/*;a=\"b,c\"",
            // A quoted comma splits nothing (RFC 9110 §5.6.4).
            "text/html;a=\"x,application/problem+json,y\"",
        ]),
        proptest::option::of(select(QVALUES.to_vec())),
    )
        .prop_map(|(range, q)| {
            let text = match q {
                Some((qvalue, _)) => format!("{range};q={qvalue}"),
                None => range.to_owned(),
            };
            (None, text)
        });
    // An element with a malformed qvalue is skipped, like any malformed
    // element, and the rest of the list still counts.
    let bad_q = (select(RANGES.to_vec()), select(BAD_QVALUES.to_vec()))
        .prop_map(|(range, qvalue)| (None, format!("{range};q={qvalue}")));
    // Anything printable that is no media range: no `/`; no `,` or `"`,
    // which would split or quote the list around it.
    let junk = proptest::string::string_regex("[ !#-+.0-\\[\\]-~-]{0,12}")
        .expect("a valid pattern")
        .prop_map(|text| (None, text));
    prop_oneof![6 => weighed, 1 => parameterised, 1 => bad_q, 2 => junk]
}

/// An `Accept` list of up to six elements, separated with the optional
/// whitespace (and empty elements) RFC 9110 §5.6.1 allows, sent as one
/// header or split over several.
pub fn accept() -> impl Strategy<Value = Accept> {
    let item = (
        element(),
        select(vec![",", ", ", " , ", ",\t", ",, "]),
        0..4_u8,
    );
    proptest::collection::vec(item, 1..7).prop_map(|items| {
        let mut weighed = Vec::new();
        let mut values: Vec<String> = Vec::new();
        for ((range, text), separator, split) in items {
            weighed.extend(range);
            match values.last_mut() {
                // One element in four starts a header of its own.
                Some(value) if split > 0 => {
                    value.push_str(separator);
                    value.push_str(&text);
                }
                _ => values.push(text),
            }
        }
        Accept { weighed, values }
    })
}
