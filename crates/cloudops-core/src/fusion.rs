//! Fusing a lexical and a semantic ranking into one: reciprocal rank fusion or a weighted
//! sum, shared by the estate index and the catalog. Also the vocabulary both report in: how
//! lists are combined ([`Fusion`]) and how a result was found ([`MatchKind`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// How ranked lists are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fusion {
    /// Reciprocal rank fusion: `Σ 1 / (60 + rank)`; ignores score scales.
    Rrf,
    /// Weighted sum of the lexical score (relative to the best) and the cosine similarity.
    Weighted,
}

/// How a result was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The query named the resource's ARN.
    ExactArn,
    /// The query named the resource's id.
    ExactId,
    /// The query named the resource's name.
    ExactName,
    /// The query is a prefix (10 characters or more) of the resource's id.
    IdPrefix,
    /// Words, typos or fragments of the name, tags or description.
    Lexical,
    /// Meaning, by the embedding model.
    Semantic,
    /// Both lexical and semantic evidence.
    Hybrid,
    /// Only the query's scopes and filters select it; no words ranked it.
    Filter,
}

impl MatchKind {
    /// Whether the query identified this resource exactly.
    pub fn is_exact(self) -> bool {
        matches!(
            self,
            MatchKind::ExactArn | MatchKind::ExactId | MatchKind::ExactName | MatchKind::IdPrefix
        )
    }
}

/// A candidate after fusion: its id, a relevance in `0..=1`, and which engines found it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fused {
    pub id: u64,
    pub score: f32,
    pub kind: MatchKind,
}

const RRF_K: f32 = 60.0;

/// Fuses `lexical` (id, engine score) and `semantic` (id, cosine similarity), both sorted
/// best first, into one list sorted best first (ties by id, so results are reproducible).
pub(crate) fn fuse(fusion: Fusion, lexical: &[(u64, f32)], semantic: &[(u64, f32)]) -> Vec<Fused> {
    let mut scores: HashMap<u64, (f32, bool, bool)> = HashMap::new();
    let best_lexical = lexical.first().map_or(1.0, |(_, score)| score.max(f32::EPSILON));
    let lexical_ranks = tied_ranks(lexical.iter().map(|(_, score)| *score));
    let semantic_ranks = tied_ranks(semantic.iter().map(|(_, similarity)| *similarity));
    for (rank, (id, score)) in lexical_ranks.into_iter().zip(lexical) {
        let contribution = match fusion {
            Fusion::Rrf => 1.0 / (RRF_K + rank as f32 + 1.0),
            Fusion::Weighted => 0.6 * score / best_lexical,
        };
        let entry = scores.entry(*id).or_insert((0.0, false, false));
        entry.0 += contribution;
        entry.1 = true;
    }
    for (rank, (id, similarity)) in semantic_ranks.into_iter().zip(semantic) {
        let contribution = match fusion {
            Fusion::Rrf => 1.0 / (RRF_K + rank as f32 + 1.0),
            Fusion::Weighted => 0.4 * similarity.max(0.0),
        };
        let entry = scores.entry(*id).or_insert((0.0, false, false));
        entry.0 += contribution;
        entry.2 = true;
    }
    // Normalize to 0..=1: the most a candidate can get is first place in every list.
    let lists = usize::from(!lexical.is_empty()) + usize::from(!semantic.is_empty());
    let maximum = match fusion {
        Fusion::Rrf => lists as f32 / (RRF_K + 1.0),
        Fusion::Weighted => {
            (if lexical.is_empty() { 0.0 } else { 0.6 })
                + (if semantic.is_empty() { 0.0 } else { 0.4 })
        }
    }
    .max(f32::EPSILON);
    let mut fused: Vec<Fused> = scores
        .into_iter()
        .map(|(id, (score, in_lexical, in_semantic))| Fused {
            id,
            score: (score / maximum).min(1.0),
            kind: match (in_lexical, in_semantic) {
                (true, true) => MatchKind::Hybrid,
                (true, false) => MatchKind::Lexical,
                _ => MatchKind::Semantic,
            },
        })
        .collect();
    fused.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    fused
}

/// Competition ranks of scores sorted best first: equal scores share a rank, so candidates
/// the embedder cannot tell apart (numbered siblings share one vector) get equal credit.
fn tied_ranks(scores: impl Iterator<Item = f32>) -> Vec<usize> {
    let mut ranks = Vec::new();
    let mut previous: Option<f32> = None;
    for (position, score) in scores.enumerate() {
        let rank = match (previous, ranks.last()) {
            (Some(last), Some(&rank)) if (last - score).abs() <= 1e-6 => rank,
            _ => position,
        };
        ranks.push(rank);
        previous = Some(score);
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuses and renders `id kind score` per candidate, best first, scores to 4 decimals.
    fn check(fusion: Fusion, lexical: &[(u64, f32)], semantic: &[(u64, f32)], expected: &[&str]) {
        let rendered: Vec<String> = fuse(fusion, lexical, semantic)
            .iter()
            .map(|fused| format!("{} {:?} {:.4}", fused.id, fused.kind, fused.score))
            .collect();
        assert_eq!(rendered, expected, "lexical {lexical:?}, semantic {semantic:?}");
    }

    #[test]
    fn rrf_shares_ranks_between_equal_scores() {
        // Equal lexical scores share the first rank: 1/61 each, the maximum; then 1/63.
        check(
            Fusion::Rrf,
            &[(1, 5.0), (2, 5.0), (3, 4.0)],
            &[],
            &["1 Lexical 1.0000", "2 Lexical 1.0000", "3 Lexical 0.9683"],
        );
        // Numbered siblings share one vector: both semantic candidates get rank 0, so the one
        // found only semantically (3) ties with the one found only lexically (1); without
        // sharing it would get 1/62 and fall to 0.4919.
        check(
            Fusion::Rrf,
            &[(1, 3.0), (2, 2.0)],
            &[(2, 0.9), (3, 0.9)],
            &["2 Hybrid 0.9919", "1 Lexical 0.5000", "3 Semantic 0.5000"],
        );
        // A tie is within 1e-6 of the previous score, not of the first of the group: 9 is
        // 1.4e-6 below 7 and still shares its rank; 10 comes fourth (1/64).
        check(
            Fusion::Rrf,
            &[],
            &[(7, 0.8), (8, 0.799_999_3), (9, 0.799_998_6), (10, 0.5)],
            &["7 Semantic 1.0000", "8 Semantic 1.0000", "9 Semantic 1.0000", "10 Semantic 0.9531"],
        );
    }

    #[test]
    fn weighted_sums_relative_lexical_and_cosine() {
        // 0.6 × score / best + 0.4 × max(similarity, 0), over a maximum of 1.
        check(
            Fusion::Weighted,
            &[(1, 10.0), (2, 5.0)],
            &[(2, 0.5), (3, -0.2)],
            &["1 Lexical 0.6000", "2 Hybrid 0.5000", "3 Semantic 0.0000"],
        );
        // One list alone normalizes to its own maximum.
        check(
            Fusion::Weighted,
            &[(4, 2.0), (5, 1.0)],
            &[],
            &["4 Lexical 1.0000", "5 Lexical 0.5000"],
        );
    }

    #[test]
    fn nothing_fuses_to_nothing() {
        check(Fusion::Rrf, &[], &[], &[]);
        check(Fusion::Weighted, &[], &[], &[]);
    }

    #[test]
    fn tied_ranks_are_competition_ranks() {
        let cases: &[(&[f32], &[usize])] = &[
            (&[], &[]),
            (&[1.0], &[0]),
            (&[3.0, 2.0, 1.0], &[0, 1, 2]),
            (&[2.0, 2.0, 1.0], &[0, 0, 2]),
            (&[2.0, 1.0, 1.0, 1.0, 0.5], &[0, 1, 1, 1, 4]),
        ];
        for (scores, expected) in cases {
            assert_eq!(tied_ranks(scores.iter().copied()), *expected, "{scores:?}");
        }
    }
}
