//! Fuzzes the structured-query grammar and the reading of questions: any text either parses
//! or is refused with a reason; what parses is valid and writes back to itself; any question
//! reads as a valid query.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(request) = cloudops_core::QueryRequest::parse(text) {
        request.validate().expect("a parsed query is valid");
        let written = request.describe();
        let again = cloudops_core::QueryRequest::parse(&written).expect("written back, it parses");
        assert_eq!(again.describe(), written, "the grammar is a fixed point");
    }
    let accounts = ["production".to_owned(), "staging".to_owned()];
    let question = cloudops_core::read_question(text, &accounts);
    question.request.validate().expect("a question reads as a valid query");
    assert_eq!(question, cloudops_core::read_question(text, &accounts));
});
