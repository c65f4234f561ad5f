//! Fusing a lexical and a semantic ranking into one: reciprocal rank fusion or a weighted
//! sum, shared by the estate index and the catalog.

use std::collections::HashMap;

use crate::estate::{Fusion, MatchKind};

/// A candidate after fusion: its id, a relevance in `0..=1`, and which engines found it.
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
