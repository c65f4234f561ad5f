//! Ranking rules of a lookup: how much of the query a candidate carries (coverage), when a
//! lexical answer is decisive, the evidence floor, and when the best are too close to call.

use std::collections::HashMap;

use crate::document::TermWords;
use crate::fusion::{Fused, MatchKind};
use crate::lexical::DocumentWords;

/// Below this ratio between the second and the best score, the best is decisive.
const AMBIGUITY_RATIO: f32 = 0.9;

/// A candidate's place in the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Ranked {
    /// Coverage and fused relevance, weighed.
    pub score: f32,
    /// How it was found.
    pub kind: MatchKind,
    /// Its point id.
    pub id: u64,
}

/// Ranks fused candidates, best first (ties by id): first how many of the query's words a
/// resource carries (exactly, then as a prefix or with a typo), then the fused
/// lexical/semantic relevance. Candidates outside `pool` are left out, and so are those
/// below the evidence floor: a few shared letters are not a match, and neither is a faint
/// semantic resemblance (`similarity` holds the cosine of the semantic candidates). Nothing
/// beats a wrong answer.
pub(super) fn rank(
    fused: &[Fused],
    pool: &HashMap<u64, Candidate>,
    similarity: &HashMap<u64, f32>,
) -> Vec<Ranked> {
    let mut ranked: Vec<Ranked> = fused
        .iter()
        .filter_map(|candidate| {
            let coverage = pool.get(&candidate.id)?.coverage;
            let similar = similarity.get(&candidate.id).is_some_and(|s| *s >= MIN_SIMILARITY);
            if coverage < MIN_COVERAGE && !similar {
                return None;
            }
            let score = COVERAGE_WEIGHT * coverage + (1.0 - COVERAGE_WEIGHT) * candidate.score;
            Some(Ranked { score, kind: candidate.kind, id: candidate.id })
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    ranked
}

/// Whether the best two of `ranked` (best first) are too close to call: the second scores
/// at least [`AMBIGUITY_RATIO`] of the best.
pub(super) fn is_ambiguous(ranked: &[Ranked]) -> bool {
    match ranked {
        [first, second, ..] => second.score >= first.score * AMBIGUITY_RATIO,
        _ => false,
    }
}

/// A lexical answer is decisive when a candidate carries (nearly) all of the query's words:
/// the query embedding — the most expensive step of a lookup — is then skipped. Meaning
/// would not improve on such an answer: a rival carrying as many words differs from the
/// winner in what the operator did not type (a serial, an environment, a region), which is
/// for the operator to pick, so the answer is reported ambiguous either way; and measured on
/// the evaluation set, ranking by words alone is more accurate there than with the rank of
/// meaning fused in (the semantic ranks of near-identical names are noise).
pub(super) fn is_decisive(pool: &HashMap<u64, Candidate>) -> bool {
    pool.values().any(|candidate| candidate.coverage >= DECISIVE_COVERAGE)
}

/// Coverage from which a lexical winner is decisive.
const DECISIVE_COVERAGE: f32 = 0.8;

/// Candidates carrying less of the query than this, and not semantically similar, are dropped.
const MIN_COVERAGE: f32 = 0.25;
/// Cosine similarity from which a semantic candidate stands on its own.
const MIN_SIMILARITY: f32 = 0.3;

/// How much the coverage of query words weighs against the fused relevance.
const COVERAGE_WEIGHT: f32 = 0.7;

/// What ranking knows of a candidate before fusion.
pub(super) struct Candidate {
    /// How much of the query it carries ([`coverage`]).
    pub coverage: f32,
}

impl Candidate {
    pub(super) fn of(query_words: &[String], words: &DocumentWords) -> Self {
        Candidate { coverage: coverage(query_words, &words.name_words, &words.other_words) }
    }
}

/// The words of the query as typed (split on punctuation, numbers without leading zeros).
pub(super) fn primary_words(terms: &[TermWords]) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in terms.iter().flat_map(|term| &term.typed) {
        if !words.contains(word) {
            words.push(word.clone());
        }
    }
    words
}

/// The share of `query_words` a resource carries: 1 for a word of its name or id, 0.9 for a
/// prefix of one, 0.8 for one within typo distance; 0.6 for a word of its tags, attributes
/// or description (less telling than the name), 0.5 for one within typo distance; 0
/// otherwise. Numbers count only exactly; prefixes need 3 letters, typos 4 (2 edits from 8).
fn coverage(query_words: &[String], name_words: &[String], other_words: &[String]) -> f32 {
    if query_words.is_empty() {
        return 0.0;
    }
    let total: f32 = query_words
        .iter()
        .map(|word| {
            let in_text = |w: &String| w == word;
            if name_words.iter().any(in_text) {
                return 1.0;
            }
            if other_words.iter().any(in_text) {
                return 0.6;
            }
            if word.chars().all(|c| c.is_ascii_digit()) {
                return 0.0;
            }
            let length = word.chars().count();
            if length >= 3 && name_words.iter().any(|w| w.starts_with(word.as_str())) {
                return 0.9;
            }
            if length >= 4 {
                let allowed = if length >= 8 { 2 } else { 1 };
                let close = |w: &String| strsim::osa_distance(w, word) <= allowed;
                if name_words.iter().any(close) {
                    return 0.8;
                }
                if other_words.iter().any(close) {
                    return 0.5;
                }
            }
            0.0
        })
        .sum();
    total / query_words.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn coverage_counts_the_query_words_a_candidate_carries() {
        // (query words, name and id words, other words) → coverage.
        let cases: &[(&str, &str, &str, f32)] = &[
            ("", "web", "", 0.0),
            ("web", "web", "", 1.0),
            ("web", "web", "web", 1.0),
            ("web prod", "web", "prod", 0.8),
            ("main 9", "pg instance main1 main 1", "", 0.5),
            ("web api db x", "web", "db", 0.4),
            // Prefixes of name words, from 3 letters; not of other words.
            ("check", "checkout", "", 0.9),
            ("ch", "checkout", "", 0.0),
            ("datab", "", "database", 0.0),
            // Typos: 1 edit from 4 letters, 2 from 8; in other words they count 0.5.
            ("chekout", "checkout", "", 0.8),
            ("chekcout", "checkout", "", 0.8),
            ("chckot", "checkout", "", 0.0),
            ("postgers", "", "postgres", 0.5),
            ("web", "wbe", "", 0.0),
            // Numbers count only exactly: serial 7 is not 77.
            ("7", "web 7", "", 1.0),
            ("7", "web 77", "", 0.0),
            ("12", "", "12", 0.6),
        ];
        for (query, name, other, expected) in cases {
            let found = coverage(&words(query), &words(name), &words(other));
            assert!(
                (found - expected).abs() < 1e-6,
                "query {query:?}, name {name:?}, other {other:?}: {found} != {expected}"
            );
        }
    }

    fn pool(coverages: &[f32]) -> HashMap<u64, Candidate> {
        (0u64..).zip(coverages).map(|(id, &coverage)| (id, Candidate { coverage })).collect()
    }

    #[test]
    fn a_lexical_answer_is_decisive_when_one_candidate_carries_most_of_the_query() {
        let cases: &[(&[f32], bool)] =
            &[(&[], false), (&[0.5, 0.79], false), (&[0.2, 0.8], true), (&[1.0], true)];
        for (coverages, expected) in cases {
            assert_eq!(is_decisive(&pool(coverages)), *expected, "{coverages:?}");
        }
    }

    #[test]
    fn an_answer_is_ambiguous_when_the_second_is_within_ten_percent_of_the_best() {
        let ranked = |scores: &[f32]| -> Vec<Ranked> {
            (0u64..)
                .zip(scores)
                .map(|(id, &score)| Ranked { score, kind: MatchKind::Lexical, id })
                .collect()
        };
        let cases: &[(&[f32], bool)] = &[
            (&[], false),
            (&[0.9], false),
            (&[1.0, 0.9], true),
            (&[1.0, 0.89], false),
            (&[0.5, 0.45], true),
            (&[0.5, 0.44, 0.44], false),
            (&[0.7, 0.7, 0.1], true),
        ];
        for (scores, expected) in cases {
            assert_eq!(is_ambiguous(&ranked(scores)), *expected, "{scores:?}");
        }
    }

    #[test]
    fn ranking_weighs_coverage_over_relevance_above_an_evidence_floor() {
        let candidate = |id, kind, score| Fused { id, score, kind };
        let fused = [
            candidate(8, MatchKind::Lexical, 1.0),
            candidate(1, MatchKind::Lexical, 1.0),
            candidate(3, MatchKind::Semantic, 0.9),
            candidate(4, MatchKind::Lexical, 0.8),
            candidate(2, MatchKind::Hybrid, 0.5),
            candidate(5, MatchKind::Semantic, 0.2),
            candidate(7, MatchKind::Lexical, 0.1),
        ];
        let pool: HashMap<u64, Candidate> =
            [(1, 0.5), (2, 1.0), (3, 0.0), (4, 0.2), (5, 0.0), (8, 0.5)]
                .into_iter()
                .map(|(id, coverage)| (id, Candidate { coverage }))
                .collect();
        let similarity: HashMap<u64, f32> = [(2, 0.5), (3, 0.35), (5, 0.29)].into();
        let rendered: Vec<String> = rank(&fused, &pool, &similarity)
            .iter()
            .map(|ranked| format!("{} {:?} {:.4}", ranked.id, ranked.kind, ranked.score))
            .collect();
        // 0.7 × coverage + 0.3 × fused; 4 (coverage 0.2) and 5 (similarity 0.29) fall below
        // the floor, 7 has no words in the pool; equal scores by id.
        assert_eq!(
            rendered,
            ["2 Hybrid 0.8500", "1 Lexical 0.6500", "8 Lexical 0.6500", "3 Semantic 0.2700"]
        );
    }

    #[test]
    fn primary_words_are_the_typed_words_once() {
        let term = |typed: &str| TermWords { typed: words(typed), ..TermWords::default() };
        assert_eq!(
            primary_words(&[term("pg main 1"), term("main web")]),
            ["pg", "main", "1", "web"]
        );
        assert!(primary_words(&[]).is_empty());
    }
}
