//! The tantivy side of the estate index: exact keys, weighted words, character n-grams and
//! filter terms, searched with term, fuzzy and prefix queries.

use std::path::Path;

use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::indexer::{IndexWriterOptions, LogMergePolicy};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
    Value,
};
use tantivy::tokenizer::{LowerCaser, NgramTokenizer, SimpleTokenizer, TextAnalyzer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::document::{FilterValues, IndexedText};
use crate::error::{Error, Result};
use crate::vectors::point_id;

// Versioned names: tokenizer parameters are not part of tantivy's schema, so a change of
// parameters must change the name for the stored schema to stop matching.
const WORDS_TOKENIZER: &str = "cloudops_words_v1";
const GRAMS_TOKENIZER: &str = "cloudops_grams23_v1";

#[derive(Debug, Clone, Copy)]
struct Fields {
    arn: Field,
    point: Field,
    exact: Field,
    name_words: Field,
    id_words: Field,
    other_words: Field,
    grams: Field,
    resource_type: Field,
    account: Field,
    region: Field,
    environment: Field,
    tag: Field,
    state: Field,
}

fn schema() -> Schema {
    let mut builder = Schema::builder();
    // The words are stored too: ranking reads them for every candidate, and reading them here,
    // with the ARN, costs a fraction of decoding the resource from the vector store's payload.
    let words = |tokenizer: &str| {
        TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer)
                    .set_index_option(IndexRecordOption::WithFreqs),
            )
            .set_stored()
    };
    builder.add_text_field("arn", STRING | STORED);
    // The vector store's point id, to find the words of semantic candidates.
    builder.add_u64_field("point", INDEXED);
    builder.add_text_field("exact", STRING);
    builder.add_text_field("name_words", words(WORDS_TOKENIZER));
    builder.add_text_field("id_words", words(WORDS_TOKENIZER));
    builder.add_text_field("other_words", words(WORDS_TOKENIZER));
    builder.add_text_field(
        "grams",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(GRAMS_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs)
                .set_fieldnorms(false),
        ),
    );
    for filter in ["resource_type", "account", "region", "environment", "tag", "state"] {
        builder.add_text_field(filter, STRING);
    }
    builder.build()
}

/// Filters, as values of the filter fields; within a field values are alternatives, across
/// fields all must hold.
#[derive(Debug, Default, Clone)]
pub(crate) struct LexicalFilter {
    pub resource_types: Vec<String>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub environments: Vec<String>,
    /// Each `key=value` must hold.
    pub tags: Vec<String>,
    /// Lowercased states.
    pub states: Vec<String>,
}

/// A lexical hit.
#[derive(Debug, Clone)]
pub(crate) struct LexicalHit {
    pub arn: String,
    pub score: f32,
    pub words: DocumentWords,
}

/// The indexed words of a document, as ranking needs them.
#[derive(Debug, Clone, Default)]
pub(crate) struct DocumentWords {
    /// The vector store's point id of the resource.
    pub id: u64,
    /// The words of the name and of the id.
    pub name_words: Vec<String>,
    pub other_words: Vec<String>,
}

/// How the words of a query combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Combine {
    /// Documents carrying every word (as typed, or a typo or prefix of it): an intersection
    /// led by the rarest word, cheap at any size.
    Every,
    /// Documents carrying any word or any of its letter grams, ranked: the wide net, whose
    /// cost grows with the estate.
    Any,
}

pub(crate) struct LexicalIndex {
    reader: IndexReader,
    writer: IndexWriter,
    fields: Fields,
}

impl LexicalIndex {
    /// Opens (or creates) the index at `path`. An index of another layout is derived data of
    /// an older version: it is deleted and created anew, empty, for the caller to refill
    /// from the vector store.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let open_directory = || -> Result<MmapDirectory> {
            std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
            MmapDirectory::open(path)
                .map_err(|e| Error::Index(format!("lexical index at {}: {e}", path.display())))
        };
        let directory = open_directory()?;
        let exists = Index::exists(&directory).map_err(tantivy::TantivyError::from)?;
        let index = if exists {
            let index = Index::open(directory)?;
            if index.schema() == schema() {
                index
            } else {
                drop(index);
                std::fs::remove_dir_all(path).map_err(|e| Error::io(path, e))?;
                Index::create(open_directory()?, schema(), Default::default())?
            }
        } else {
            Index::create(directory, schema(), Default::default())?
        };
        index.tokenizers().register(
            WORDS_TOKENIZER,
            TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).build(),
        );
        index.tokenizers().register(
            GRAMS_TOKENIZER,
            TextAnalyzer::builder(NgramTokenizer::new(2, 3, false)?).filter(LowerCaser).build(),
        );
        let schema = index.schema();
        let fields = Fields {
            arn: schema.get_field("arn")?,
            point: schema.get_field("point")?,
            exact: schema.get_field("exact")?,
            name_words: schema.get_field("name_words")?,
            id_words: schema.get_field("id_words")?,
            other_words: schema.get_field("other_words")?,
            grams: schema.get_field("grams")?,
            resource_type: schema.get_field("resource_type")?,
            account: schema.get_field("account")?,
            region: schema.get_field("region")?,
            environment: schema.get_field("environment")?,
            tag: schema.get_field("tag")?,
            state: schema.get_field("state")?,
        };
        let writer: IndexWriter = index.writer_with_options(
            IndexWriterOptions::builder()
                .num_worker_threads(1)
                .memory_budget_per_thread(128_000_000)
                .num_merge_threads(1)
                .build(),
        )?;
        let mut merge_policy = LogMergePolicy::default();
        merge_policy.set_del_docs_ratio_before_merge(0.3);
        writer.set_merge_policy(Box::new(merge_policy));
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(LexicalIndex { reader, writer, fields })
    }

    /// Stages the replacement of `arn`'s document; visible after [`Self::commit`].
    pub(crate) fn upsert(
        &self,
        arn: &str,
        text: &IndexedText,
        filters: &FilterValues,
    ) -> Result<()> {
        let f = &self.fields;
        self.writer.delete_term(Term::from_field_text(f.arn, arn));
        let mut document = TantivyDocument::default();
        document.add_text(f.arn, arn);
        document.add_u64(f.point, point_id(arn));
        for value in &text.exact {
            document.add_text(f.exact, value);
        }
        document.add_text(f.name_words, text.name_words.join(" "));
        document.add_text(f.id_words, text.id_words.join(" "));
        document.add_text(f.other_words, text.other_words.join(" "));
        for word in &text.name_words {
            document.add_text(f.grams, word);
        }
        document.add_text(f.resource_type, &filters.resource_type);
        for account in &filters.accounts {
            document.add_text(f.account, account);
        }
        for region in &filters.regions {
            document.add_text(f.region, region);
        }
        if let Some(environment) = &filters.environment {
            document.add_text(f.environment, environment);
        }
        for tag in &filters.tags {
            document.add_text(f.tag, tag);
        }
        document.add_text(f.state, &filters.state);
        self.writer.add_document(document)?;
        Ok(())
    }

    pub(crate) fn remove(&self, arn: &str) {
        self.writer.delete_term(Term::from_field_text(self.fields.arn, arn));
    }

    /// Stages the removal of every document.
    pub(crate) fn clear(&self) -> Result<()> {
        self.writer.delete_all_documents()?;
        Ok(())
    }

    pub(crate) fn commit(&mut self) -> Result<()> {
        self.writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    pub(crate) fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn filter_clauses(&self, filter: &LexicalFilter) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.fields;
        let any_of = |field: Field, values: &[String]| -> Box<dyn Query> {
            let terms = values.iter().map(|value| Term::from_field_text(field, value));
            Box::new(ConstScoreQuery::new(Box::new(TermSetQuery::new(terms)), 0.0))
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, values) in [
            (f.resource_type, &filter.resource_types),
            (f.account, &filter.accounts),
            (f.region, &filter.regions),
            (f.environment, &filter.environments),
            (f.state, &filter.states),
        ] {
            if !values.is_empty() {
                clauses.push((Occur::Must, any_of(field, values)));
            }
        }
        for tag in &filter.tags {
            clauses.push((Occur::Must, any_of(f.tag, std::slice::from_ref(tag))));
        }
        clauses
    }

    fn run(&self, query: &dyn Query, limit: usize) -> Result<Vec<LexicalHit>> {
        let searcher = self.reader.searcher();
        let hits = searcher.search(query, &TopDocs::with_limit(limit.max(1)))?;
        let mut out = Vec::with_capacity(hits.len());
        for (score, address) in hits {
            let document: TantivyDocument = searcher.doc(address)?;
            if let Some(arn) = document.get_first(self.fields.arn).and_then(|v| v.as_str()) {
                let words = self.words_in(&document, point_id(arn));
                out.push(LexicalHit { arn: arn.to_owned(), score, words });
            }
        }
        Ok(out)
    }

    fn words_in(&self, document: &TantivyDocument, id: u64) -> DocumentWords {
        let split = |field: Field| -> Vec<String> {
            document
                .get_first(field)
                .and_then(|v| v.as_str())
                .map(|text| text.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default()
        };
        let mut name_words = split(self.fields.name_words);
        name_words.extend(split(self.fields.id_words));
        DocumentWords { id, name_words, other_words: split(self.fields.other_words) }
    }

    /// The words of the documents of these point ids (in no particular order; unknown ids
    /// are skipped).
    pub(crate) fn words_of(&self, ids: &[u64]) -> Result<Vec<DocumentWords>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let terms = ids.iter().map(|id| Term::from_field_u64(self.fields.point, *id));
        let addresses = searcher.search(&TermSetQuery::new(terms), &DocSetCollector)?;
        let mut out = Vec::with_capacity(addresses.len());
        for address in addresses {
            let document: TantivyDocument = searcher.doc(address)?;
            if let Some(arn) = document.get_first(self.fields.arn).and_then(|v| v.as_str()) {
                out.push(self.words_in(&document, point_id(arn)));
            }
        }
        Ok(out)
    }

    /// Documents whose ARN, id or name equals `value` (lowercased), or, for values of at
    /// least `min_prefix` characters, whose id starts with it.
    pub(crate) fn exact(
        &self,
        values: &[String],
        min_prefix: usize,
        filter: &LexicalFilter,
    ) -> Result<Vec<LexicalHit>> {
        let f = &self.fields;
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for value in values {
            let term = Term::from_field_text(f.exact, value);
            alternatives.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(term.clone(), IndexRecordOption::Basic)),
                    2.0,
                )),
            ));
            if value.chars().count() >= min_prefix {
                alternatives.push((
                    Occur::Should,
                    Box::new(ConstScoreQuery::new(
                        Box::new(FuzzyTermQuery::new_prefix(term, 0, false)),
                        1.0,
                    )),
                ));
            }
        }
        if alternatives.is_empty() {
            return Ok(Vec::new());
        }
        let mut clauses = self.filter_clauses(filter);
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
        self.run(&BooleanQuery::new(clauses), 16)
    }

    /// Ranked candidates for the normalized query `words` within `filter`, combined as
    /// `combine` says. With no words, everything the filter admits (unranked).
    pub(crate) fn search(
        &self,
        words: &[String],
        filter: &LexicalFilter,
        limit: usize,
        combine: Combine,
    ) -> Result<Vec<LexicalHit>> {
        let f = &self.fields;
        let mut clauses = self.filter_clauses(filter);
        if words.is_empty() {
            if clauses.is_empty() {
                return Ok(Vec::new());
            }
            clauses.push((Occur::Must, Box::new(AllQuery)));
            return self.run(&BooleanQuery::new(clauses), limit);
        }
        let boosted = |query: Box<dyn Query>, boost: f32| -> Box<dyn Query> {
            Box::new(BoostQuery::new(query, boost))
        };
        let term = |field: Field, word: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, word),
                IndexRecordOption::WithFreqs,
            ))
        };
        let searcher = self.reader.searcher();
        let occur = match combine {
            Combine::Every => Occur::Must,
            Combine::Any => Occur::Should,
        };
        // In the wide pass, a word (or gram) in more documents than this is left out: scoring
        // its postings costs milliseconds per hundred thousand documents and ranks nothing
        // (its weight is low), while ranking still counts it for every candidate from the
        // stored words. Grams, a partial word's weakest evidence, are left out from a tenth of
        // that. In estates of up to 5,000 resources nothing is left out.
        let common = COMMON_DOCUMENTS.max(searcher.num_docs() / 10);
        let common_gram = common / 10;
        let mut text: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in words {
            let name_term = Term::from_field_text(f.name_words, word);
            let frequency = searcher.doc_freq(&name_term)?
                + searcher.doc_freq(&Term::from_field_text(f.other_words, word))?
                + searcher.doc_freq(&Term::from_field_text(f.id_words, word))?;
            if combine == Combine::Any && frequency > common {
                continue;
            }
            // A word the estate has is taken as typed: its typo neighbours and letter grams
            // would only add near misses, and at a million resources walking them costs more
            // than the rest of the lookup. Typos and partial words are what they are for.
            let known = frequency > 0;
            let mut per_word: Vec<(Occur, Box<dyn Query>)> = vec![
                (Occur::Should, boosted(term(f.name_words, word), 3.0)),
                (Occur::Should, boosted(term(f.id_words, word), 3.0)),
                (Occur::Should, term(f.other_words, word)),
            ];
            let length = word.chars().count();
            let numeric = word.chars().all(|c| c.is_ascii_digit());
            if length >= 4 && !numeric && !known {
                let mut typo = |field: Field, distance: u8, boost: f32| {
                    let query =
                        FuzzyTermQuery::new(Term::from_field_text(field, word), distance, true);
                    per_word.push((Occur::Should, boosted(Box::new(query), boost)));
                };
                typo(f.name_words, if length >= 8 { 2 } else { 1 }, 1.5);
                typo(f.other_words, 1, 0.5);
                if length >= 8 && word.chars().any(|c| c.is_ascii_digit()) {
                    // A mistyped id serial.
                    typo(f.id_words, 1, 1.5);
                }
            }
            if length >= 3 && !numeric {
                per_word.push((
                    Occur::Should,
                    boosted(Box::new(FuzzyTermQuery::new_prefix(name_term, 0, false)), 1.0),
                ));
            }
            if !numeric && !known && combine == Combine::Any {
                let mut grams = grams_of(word);
                let mut rare = Vec::with_capacity(grams.len());
                for gram in grams.drain(..) {
                    if searcher.doc_freq(&Term::from_field_text(f.grams, &gram))? <= common_gram {
                        rare.push(gram);
                    }
                }
                let grams = rare;
                if !grams.is_empty() {
                    let gram_clauses: Vec<(Occur, Box<dyn Query>)> =
                        grams.iter().map(|gram| (Occur::Should, term(f.grams, gram))).collect();
                    let weight = 1.0 / grams.len() as f32;
                    per_word.push((
                        Occur::Should,
                        boosted(Box::new(BooleanQuery::new(gram_clauses)), weight),
                    ));
                }
            }
            text.push((occur, Box::new(BooleanQuery::new(per_word))));
        }
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(text))));
        self.run(&BooleanQuery::new(clauses), limit)
    }
}

/// See [`LexicalIndex::search`]: the least number of documents a word must be in to be left
/// out of the wide pass.
const COMMON_DOCUMENTS: u64 = 50_000;

/// The 2- and 3-character grams of `word`, as the grams tokenizer makes them.
fn grams_of(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut grams = Vec::new();
    for size in 2..=3 {
        for window in chars.windows(size) {
            let gram: String = window.iter().collect();
            if !grams.contains(&gram) {
                grams.push(gram);
            }
        }
    }
    grams
}
