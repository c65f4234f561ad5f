//! The lookup flow: exact identifiers first, then everything the scopes admit when no word
//! is left, then lexical candidates and, unless they are decisive, semantic ones, fused and
//! ranked (`rank.rs`).

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use super::rank::{self, Candidate};
use super::{Estate, LookupRequest, LookupResponse, LookupResult};
use crate::document::{LexicalFilter, TermWords, point_id, term_words};
use crate::error::{Error, Result};
use crate::fusion::{MatchKind, fuse};
use crate::lexical::Combine;
use crate::model::Resource;
use crate::query::{ParsedQuery, RegionScope, parse_query, tag_filter};

/// Candidate lists this long are fused; deeper ranks barely move RRF scores.
const CANDIDATES: usize = 50;
/// Id prefixes shorter than this are too likely to match many resources.
const MIN_ID_PREFIX: usize = 10;
/// Fewer letters than this carry no meaning to embed: the first keystroke of a search
/// ("p", "c") is answered lexically alone instead of paying for a query embedding.
const MIN_SEMANTIC_CHARS: usize = 2;

impl Estate {
    /// Finds the resources a query refers to. See the crate documentation for the stages.
    pub fn lookup(&self, request: &LookupRequest) -> Result<LookupResponse> {
        let started = Instant::now();
        let limit = request.limit.unwrap_or(10).clamp(1, 1_000);
        let account_names = self
            .account_names
            .read()
            .map_err(|_| Error::Index("account names lock poisoned".into()))?
            .clone();
        let mut understood = parse_query(&request.query, &account_names);
        if let Some(kind) = &request.resource_type {
            understood.resource_types = vec![kind.clone()];
        }
        if let Some(account) = &request.account {
            understood.accounts = vec![account.to_lowercase()];
        }
        if let Some(region) = &request.region {
            understood.regions = vec![RegionScope::Exact(region.to_lowercase())];
        }
        // Structured tags add to those the query names; both are filters.
        for (key, value) in &request.tags {
            let (key, value) = tag_filter(key, value)?;
            let tag = (key.to_lowercase(), value.to_lowercase());
            if !understood.tags.contains(&tag) {
                understood.tags.push(tag);
            }
        }
        let mut filter = to_filter(&understood);
        if let Some(state) = request.state.as_deref().filter(|state| !state.trim().is_empty()) {
            filter.states = vec![state.trim().to_lowercase()];
        }
        let mut notes = Vec::new();

        let lexical_only = request.lexical_only;
        let mut outcome = self.search(&understood, &filter, limit, lexical_only)?;
        // (A lexical-only answer that is empty in scope waits for the semantic candidates.)
        if outcome.results.is_empty()
            && !outcome.semantic_skipped
            && understood.has_scope()
            && !understood.terms.is_empty()
        {
            // Nothing in scope: say so, and show what matches elsewhere rather than nothing.
            let unscoped =
                self.search(&understood, &LexicalFilter::default(), limit, lexical_only)?;
            if !unscoped.results.is_empty() {
                notes.push(
                    "nothing matches within the requested scope; showing matches outside it"
                        .to_owned(),
                );
                outcome = unscoped;
                outcome.ambiguous = true;
            }
        }
        if !self.embedder.is_semantic() {
            notes.extend(self.warnings.iter().cloned());
        }
        Ok(LookupResponse {
            query: request.query.clone(),
            understood,
            results: outcome.results,
            ambiguous: outcome.ambiguous,
            semantic: outcome.semantic,
            semantic_skipped: outcome.semantic_skipped,
            notes,
            took_us: started.elapsed().as_micros() as u64,
        })
    }

    fn search(
        &self,
        understood: &ParsedQuery,
        filter: &LexicalFilter,
        limit: usize,
        lexical_only: bool,
    ) -> Result<Outcome> {
        let lexical = self.read_lexical()?;

        // 1. Exact: a term that is an ARN, an id, a name, or a long enough id prefix.
        if !understood.terms.is_empty() {
            let mut values = understood.terms.clone();
            let mention = understood.mention();
            if understood.terms.len() > 1 {
                values.push(mention);
            }
            let hits = lexical.exact(&values, MIN_ID_PREFIX, filter)?;
            if !hits.is_empty() {
                let ids: Vec<u64> = hits.iter().map(|hit| point_id(&hit.arn)).collect();
                let mut results: Vec<LookupResult> = self
                    .vectors
                    .get(&ids, false)?
                    .into_iter()
                    .filter_map(|point| {
                        let kind = exact_kind(&point.resource, &values)?;
                        Some(LookupResult {
                            resource: point.resource,
                            score: 1.0,
                            matched_by: kind,
                        })
                    })
                    .collect();
                // Whole identifiers beat prefixes.
                if results.iter().any(|r| r.matched_by != MatchKind::IdPrefix) {
                    results.retain(|r| r.matched_by != MatchKind::IdPrefix);
                }
                if !results.is_empty() {
                    results.truncate(limit);
                    return Ok(Outcome::without_semantics(results));
                }
            }
        }

        // 2. Scope only: everything the filters admit.
        let terms: Vec<TermWords> = understood.terms.iter().map(|t| term_words(t)).collect();
        let mut words: Vec<String> = terms.iter().flat_map(|t| t.search.clone()).collect();
        let mut unique = HashSet::new();
        words.retain(|word| unique.insert(word.clone()));
        if words.is_empty() {
            let hits = lexical.search(&[], filter, limit, Combine::Any)?;
            drop(lexical);
            let mut results = self.resolve(
                &hits.iter().map(|h| (point_id(&h.arn), 1.0)).collect::<Vec<_>>(),
                MatchKind::Filter,
            )?;
            results.sort_by(|a, b| a.resource.name.cmp(&b.resource.name));
            return Ok(Outcome::without_semantics(results));
        }

        // 3. Lexical candidates, then semantic ones unless the lexical answer is decisive.
        // First the documents carrying every word, which is cheap at any size and usually
        // decides; only when it does not, the wide net of any word and its letter grams.
        let query_words = rank::primary_words(&terms);
        let mut pool: HashMap<u64, Candidate> = HashMap::new();
        let mut lexical_hits = Vec::new();
        let mut decisive = false;
        for combine in [Combine::Every, Combine::Any] {
            lexical_hits = lexical.search(&words, filter, CANDIDATES, combine)?;
            pool.clear();
            for hit in &lexical_hits {
                pool.insert(hit.words.id, Candidate::of(&query_words, &hit.words));
            }
            decisive = rank::is_decisive(&pool);
            if decisive {
                break;
            }
        }
        drop(lexical);
        // Identifiers mean nothing to the model (and long ones are its slowest inputs).
        let meaningful = terms.iter().any(|t| !t.identifier)
            && words.iter().map(|word| word.chars().count()).sum::<usize>() >= MIN_SEMANTIC_CHARS;
        let wants_semantic = self.embedder.is_semantic() && meaningful && !decisive;
        let semantic_skipped = wants_semantic && lexical_only;
        let semantic_hits = if wants_semantic && !lexical_only {
            let vector = self
                .embedder
                .embed(&[semantic_text(understood, &terms).as_str()])?
                .into_iter()
                .next()
                .ok_or_else(|| Error::Model("the embedder returned no vector".into()))?;
            self.vectors.search(vector, filter, CANDIDATES)?
        } else {
            Vec::new()
        };
        let semantic = !semantic_hits.is_empty();
        let unseen: Vec<u64> =
            semantic_hits.iter().map(|(id, _)| *id).filter(|id| !pool.contains_key(id)).collect();
        for words in self.read_lexical()?.words_of(&unseen)? {
            pool.insert(words.id, Candidate::of(&query_words, &words));
        }

        let lexical_scores: Vec<(u64, f32)> =
            lexical_hits.iter().map(|hit| (hit.words.id, hit.score)).collect();
        let fused = fuse(self.config.fusion, &lexical_scores, &semantic_hits);
        let similarity: HashMap<u64, f32> = semantic_hits.iter().copied().collect();
        let mut ranked = rank::rank(&fused, &pool, &similarity);
        let ambiguous = rank::is_ambiguous(&ranked);
        ranked.truncate(limit);
        let ids: Vec<u64> = ranked.iter().map(|ranked| ranked.id).collect();
        let mut resources: HashMap<u64, Resource> = self
            .vectors
            .get(&ids, false)?
            .into_iter()
            .map(|point| (point_id(&point.resource.arn), point.resource))
            .collect();
        let results = ranked
            .into_iter()
            .filter_map(|ranked| {
                resources.remove(&ranked.id).map(|resource| LookupResult {
                    resource,
                    score: ranked.score,
                    matched_by: ranked.kind,
                })
            })
            .collect();
        Ok(Outcome { results, ambiguous, semantic, semantic_skipped })
    }

    /// Reads the resources of scored point ids, keeping the order.
    fn resolve(&self, scored: &[(u64, f32)], kind: MatchKind) -> Result<Vec<LookupResult>> {
        let ids: Vec<u64> = scored.iter().map(|(id, _)| *id).collect();
        let points = self.vectors.get(&ids, false)?;
        let scores: HashMap<u64, f32> = scored.iter().copied().collect();
        Ok(points
            .into_iter()
            .map(|point| {
                let score = scores.get(&point_id(&point.resource.arn)).copied().unwrap_or(0.0);
                LookupResult { resource: point.resource, score, matched_by: kind }
            })
            .collect())
    }
}

struct Outcome {
    results: Vec<LookupResult>,
    ambiguous: bool,
    semantic: bool,
    semantic_skipped: bool,
}

impl Outcome {
    /// Exact and filter-only answers: no ranking by meaning could change them.
    fn without_semantics(results: Vec<LookupResult>) -> Self {
        Outcome { ambiguous: results.len() > 1, results, semantic: false, semantic_skipped: false }
    }
}

fn to_filter(understood: &ParsedQuery) -> LexicalFilter {
    LexicalFilter {
        resource_types: understood.resource_types.iter().map(|k| k.as_str().to_owned()).collect(),
        accounts: understood.accounts.clone(),
        regions: understood
            .regions
            .iter()
            .map(|region| match region {
                RegionScope::Exact(code) | RegionScope::Prefix(code) => code.clone(),
            })
            .collect(),
        environments: understood.environments.clone(),
        tags: understood.tags.iter().map(|(key, value)| format!("{key}={value}")).collect(),
        states: Vec::new(),
    }
}

fn exact_kind(resource: &Resource, values: &[String]) -> Option<MatchKind> {
    let equals = |field: &str| values.iter().any(|value| field.eq_ignore_ascii_case(value));
    if equals(&resource.arn) {
        Some(MatchKind::ExactArn)
    } else if !resource.name.is_empty() && equals(&resource.name) {
        Some(MatchKind::ExactName)
    } else if equals(&resource.id) {
        Some(MatchKind::ExactId)
    } else {
        let id = resource.id.to_lowercase();
        values
            .iter()
            .any(|value| value.chars().count() >= MIN_ID_PREFIX && id.starts_with(value.as_str()))
            .then_some(MatchKind::IdPrefix)
    }
}

/// The text embedded for a query: its terms but identifiers, plus the kind it names.
fn semantic_text(understood: &ParsedQuery, terms: &[TermWords]) -> String {
    let mut parts: Vec<String> = understood
        .resource_types
        .iter()
        .filter_map(|kind| kind.synonyms().get(1).map(|word| (*word).to_owned()))
        .collect();
    parts.extend(
        understood
            .terms
            .iter()
            .zip(terms)
            .filter(|(_, t)| !t.identifier)
            .map(|(term, _)| term.clone()),
    );
    parts.join(" ")
}
