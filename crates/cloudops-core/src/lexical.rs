//! The tantivy side of the estate index: exact keys, weighted words, character n-grams and
//! filter terms, searched with term, fuzzy and prefix queries; and the facets (distinct
//! values, counted) read from the filter terms' dictionaries.

use std::collections::BTreeMap;
use std::path::Path;

use std::ops::Bound;

use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::{AggregationCollector, AggregationLimitsGuard};
use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::indexer::{IndexWriterOptions, LogMergePolicy};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, ExistsQuery, FuzzyTermQuery,
    Occur, Query, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, INDEXED, IndexRecordOption, JsonObjectOptions, STORED,
    STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{LowerCaser, NgramTokenizer, SimpleTokenizer, TextAnalyzer};
use tantivy::{DocSet, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TERMINATED};
use tantivy::{TantivyDocument, Term};

use crate::document::{FilterValues, IndexedText, LexicalFilter, point_id};
use crate::error::{Error, Result};
use crate::filters::{AgeOf, Comparison, Condition, GroupKey, NO_VALUE, QueryRequest, Sort};
use crate::model::normalize_environment;

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
    facet_account: Field,
    facet_tag_key: Field,
    columns: ColumnFields,
}

/// The columns structured queries read ([`crate::filters`]).
#[derive(Debug, Clone, Copy)]
struct ColumnFields {
    name: Field,
    resource_type: Field,
    account: Field,
    region: Field,
    state: Field,
    environment: Field,
    tags: Field,
    attributes: Field,
    last_seen: Field,
    created: Field,
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
    // Counted, never searched: `<account id><ACCOUNT_SEPARATOR><account name>` and the tag
    // keys, as written (the filter fields above are lowercased).
    builder.add_text_field("facet_account", STRING);
    builder.add_text_field("facet_tag_key", STRING);
    // Columns for structured queries: sorted, grouped and compared without reading the
    // resources. The filter fields above select by type, account, region, state, environment
    // and tag value; these group by them.
    for column in ["q_name", "q_type", "q_account", "q_region", "q_state", "q_env"] {
        builder.add_text_field(column, TextOptions::default().set_fast(None));
    }
    builder.add_json_field("q_tags", JsonObjectOptions::default().set_fast(None));
    builder.add_json_field(
        "q_attrs",
        JsonObjectOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("raw")
                    .set_index_option(IndexRecordOption::Basic)
                    .set_fieldnorms(false),
            )
            .set_fast(None),
    );
    for column in ["q_seen", "q_created"] {
        builder.add_date_field(
            column,
            DateOptions::default()
                .set_indexed()
                .set_fast()
                .set_precision(DateTimePrecision::Seconds),
        );
    }
    builder.build()
}

/// The most groups an answer has (per key); more is an error, never a silent cut.
const MAX_GROUPS: u32 = 10_000;
/// The memory a grouping may use.
const GROUP_MEMORY: u64 = 256 * 1024 * 1024;

/// What [`LexicalIndex::select`] found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    pub total: usize,
    /// Each group's key values (one per group key) and count, largest first.
    pub groups: Vec<(Vec<String>, usize)>,
    /// The listed matches, in order.
    pub arns: Vec<String>,
}

/// A JSON column path segment: dots in keys are escaped (tag keys may contain them).
fn json_path(key: &str) -> String {
    key.replace('\\', "\\\\").replace('.', "\\.")
}

fn bucket_key(key: &serde_json::Value) -> String {
    match key {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Number(number) => match number.as_f64() {
            Some(value) if value.fract() == 0.0 && value.abs() < 1e15 => {
                format!("{}", value as i64)
            }
            _ => number.to_string(),
        },
        other => other.to_string(),
    }
}

/// Refuses an answer whose groups were cut by the terms aggregation's size.
fn too_many_groups(aggregation: &serde_json::Value) -> Result<()> {
    match aggregation["sum_other_doc_count"].as_u64() {
        Some(0) | None => Ok(()),
        Some(other) => Err(Error::InvalidInput(format!(
            "more than {MAX_GROUPS} groups ({other} resources in groups not shown): group by a \
             key with fewer values, or filter first"
        ))),
    }
}

/// A column object as tantivy values: strings stay strings (never read as dates), numbers
/// are floats, booleans booleans.
fn json_object(
    map: &serde_json::Map<String, serde_json::Value>,
) -> BTreeMap<String, tantivy::schema::OwnedValue> {
    use tantivy::schema::OwnedValue;
    map.iter()
        .filter_map(|(key, value)| {
            let value = match value {
                serde_json::Value::String(text) => OwnedValue::Str(text.clone()),
                serde_json::Value::Bool(flag) => OwnedValue::Bool(*flag),
                serde_json::Value::Number(number) => OwnedValue::F64(number.as_f64()?),
                _ => return None,
            };
            Some((key.clone(), value))
        })
        .collect()
}

/// Between the account id and the account name of a `facet_account` term: account ids are
/// digits, so the first one splits the term.
const ACCOUNT_SEPARATOR: char = '\u{1f}';

/// The fields [`LexicalIndex::facet_counts`] counts the values of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FacetField {
    /// Resource types (`ec2_instance`).
    ResourceType,
    /// Regions, lowercased, and their family prefixes (`eu-`).
    Region,
    /// States, lowercased.
    State,
    /// Account id and name as written, joined by [`ACCOUNT_SEPARATOR`]; see
    /// [`split_account`].
    Account,
    /// Tag keys as written.
    TagKey,
}

/// Splits a [`FacetField::Account`] value into the account id and name.
pub(crate) fn split_account(value: &str) -> (&str, &str) {
    value.split_once(ACCOUNT_SEPARATOR).unwrap_or((value, ""))
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
            facet_account: schema.get_field("facet_account")?,
            facet_tag_key: schema.get_field("facet_tag_key")?,
            columns: ColumnFields {
                name: schema.get_field("q_name")?,
                resource_type: schema.get_field("q_type")?,
                account: schema.get_field("q_account")?,
                region: schema.get_field("q_region")?,
                state: schema.get_field("q_state")?,
                environment: schema.get_field("q_env")?,
                tags: schema.get_field("q_tags")?,
                attributes: schema.get_field("q_attrs")?,
                last_seen: schema.get_field("q_seen")?,
                created: schema.get_field("q_created")?,
            },
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
        let (account_id, account_name) = &filters.account;
        document
            .add_text(f.facet_account, format!("{account_id}{ACCOUNT_SEPARATOR}{account_name}"));
        for key in &filters.tag_keys {
            document.add_text(f.facet_tag_key, key);
        }
        let c = &f.columns;
        let columns = &filters.columns;
        document.add_text(c.name, &columns.name);
        document.add_text(c.resource_type, &filters.resource_type);
        document.add_text(c.account, &columns.account);
        document.add_text(c.region, &columns.region);
        document.add_text(c.state, &filters.state);
        if let Some(environment) = &filters.environment {
            document.add_text(c.environment, environment);
        }
        if !columns.tags.is_empty() {
            document.add_object(c.tags, json_object(&columns.tags));
        }
        if !columns.attributes.is_empty() {
            document.add_object(c.attributes, json_object(&columns.attributes));
        }
        if let Some(seconds) = columns.last_seen {
            document.add_date(c.last_seen, tantivy::DateTime::from_timestamp_secs(seconds));
        }
        if let Some(seconds) = columns.created {
            document.add_date(c.created, tantivy::DateTime::from_timestamp_secs(seconds));
        }
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

    /// The distinct values of `field` with the number of documents carrying each, from the
    /// field's term dictionaries: no document is read. Deleted documents still in a segment
    /// are not counted (a term's document frequency would count them until a merge).
    pub(crate) fn facet_counts(&self, field: FacetField) -> Result<BTreeMap<String, usize>> {
        let f = &self.fields;
        let field = match field {
            FacetField::ResourceType => f.resource_type,
            FacetField::Region => f.region,
            FacetField::State => f.state,
            FacetField::Account => f.facet_account,
            FacetField::TagKey => f.facet_tag_key,
        };
        let searcher = self.reader.searcher();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(field)?;
            let alive = segment.alive_bitset();
            let mut terms = inverted.terms().stream().map_err(tantivy::TantivyError::from)?;
            while terms.advance() {
                let info = terms.value();
                let count = match alive {
                    None => info.doc_freq as usize,
                    Some(alive) => {
                        let mut postings = inverted
                            .read_postings_from_terminfo(info, IndexRecordOption::Basic)
                            .map_err(tantivy::TantivyError::from)?;
                        let mut count = 0;
                        while postings.doc() != TERMINATED {
                            count += usize::from(alive.is_alive(postings.doc()));
                            postings.advance();
                        }
                        count
                    }
                };
                if count == 0 {
                    continue;
                }
                // The terms of text fields are the UTF-8 text they were made of.
                if let Ok(value) = std::str::from_utf8(terms.key()) {
                    *counts.entry(value.to_owned()).or_default() += count;
                }
            }
        }
        Ok(counts)
    }

    /// Answers a structured query from the index alone: the matches counted, grouped (by
    /// tantivy's terms aggregation over the columns) and the first `request.limit` ARNs in
    /// the requested order. `now` is the time ages are measured from (seconds since the
    /// epoch).
    pub(crate) fn select(&self, request: &QueryRequest, now: i64) -> Result<Selection> {
        let query = self.structured_query(request, now);
        let searcher = self.reader.searcher();
        let total = searcher.search(&query, &Count)?;
        let groups = if request.group_by.is_empty() || total == 0 {
            Vec::new()
        } else {
            self.groups(&searcher, &query, &request.group_by)?
        };
        let mut addresses = Vec::new();
        if request.limit > 0 && total > 0 {
            let top = TopDocs::with_limit(request.limit);
            addresses = match request.sort {
                Sort::Name => searcher
                    .search(&query, &top.order_by_string_fast_field("q_name", Order::Asc))?
                    .into_iter()
                    .map(|(_, address)| address)
                    .collect(),
                Sort::LastSeen => searcher
                    .search(
                        &query,
                        &top.order_by_fast_field::<tantivy::DateTime>("q_seen", Order::Desc),
                    )?
                    .into_iter()
                    .map(|(_, address)| address)
                    .collect(),
                Sort::Created => searcher
                    .search(
                        &query,
                        &top.order_by_fast_field::<tantivy::DateTime>("q_created", Order::Asc),
                    )?
                    .into_iter()
                    .map(|(_, address)| address)
                    .collect(),
            };
        }
        let mut arns = Vec::with_capacity(addresses.len());
        for address in addresses {
            let document: TantivyDocument = searcher.doc(address)?;
            if let Some(arn) = document.get_first(self.fields.arn).and_then(|v| v.as_str()) {
                arns.push(arn.to_owned());
            }
        }
        Ok(Selection { total, groups, arns })
    }

    fn structured_query(&self, request: &QueryRequest, now: i64) -> BooleanQuery {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = request
            .filters
            .iter()
            .map(|filter| {
                let occur = if filter.negated { Occur::MustNot } else { Occur::Must };
                (occur, self.condition_query(&filter.condition, now))
            })
            .collect();
        if !clauses.iter().any(|(occur, _)| *occur == Occur::Must) {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        BooleanQuery::new(clauses)
    }

    /// The documents meeting one condition.
    fn condition_query(&self, condition: &Condition, now: i64) -> Box<dyn Query> {
        let f = &self.fields;
        let term = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
        };
        match condition {
            Condition::Type { value } => term(f.resource_type, value.as_str()),
            Condition::Account { value } => term(f.account, &value.to_lowercase()),
            Condition::Name { value } => {
                let words: Vec<Box<dyn Query>> = value
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|word| !word.is_empty())
                    .map(|word| term(f.name_words, &word.to_lowercase()))
                    .collect();
                if words.is_empty() {
                    Box::new(AllQuery)
                } else {
                    Box::new(BooleanQuery::intersection(words))
                }
            }
            Condition::Region { value } => term(f.region, &value.to_lowercase()),
            Condition::State { value } => term(f.state, &value.to_lowercase()),
            Condition::Environment { value } => term(f.environment, &normalize_environment(value)),
            Condition::Tag { key, value: Some(value) } => term(
                f.tag,
                &format!("{}={}", key.trim().to_lowercase(), value.trim().to_lowercase()),
            ),
            Condition::Tag { key, value: None } => Box::new(ExistsQuery::new(
                format!("q_tags.{}", json_path(&key.trim().to_lowercase())),
                false,
            )),
            Condition::Attribute { name, op, value } => {
                let mut bound = Term::from_field_json_path(f.columns.attributes, name, false);
                match value {
                    serde_json::Value::String(text) => {
                        bound.append_type_and_str(&text.to_lowercase());
                    }
                    serde_json::Value::Bool(flag) => bound.append_type_and_fast_value(*flag),
                    serde_json::Value::Number(number) => match number.as_f64() {
                        Some(number) => bound.append_type_and_fast_value(number),
                        None => return Box::new(EmptyQuery),
                    },
                    // A value no attribute can have: nothing matches.
                    _ => return Box::new(EmptyQuery),
                }
                match op {
                    Comparison::Eq => Box::new(TermQuery::new(bound, IndexRecordOption::Basic)),
                    Comparison::Lt => {
                        Box::new(RangeQuery::new(Bound::Unbounded, Bound::Excluded(bound)))
                    }
                    Comparison::Le => {
                        Box::new(RangeQuery::new(Bound::Unbounded, Bound::Included(bound)))
                    }
                    Comparison::Gt => {
                        Box::new(RangeQuery::new(Bound::Excluded(bound), Bound::Unbounded))
                    }
                    Comparison::Ge => {
                        Box::new(RangeQuery::new(Bound::Included(bound), Bound::Unbounded))
                    }
                }
            }
            Condition::AnyOf { filters } => {
                let alternatives: Vec<(Occur, Box<dyn Query>)> = filters
                    .iter()
                    .map(|filter| {
                        let query = self.condition_query(&filter.condition, now);
                        let query: Box<dyn Query> = if filter.negated {
                            Box::new(BooleanQuery::new(vec![
                                (Occur::Must, Box::new(AllQuery)),
                                (Occur::MustNot, query),
                            ]))
                        } else {
                            query
                        };
                        (Occur::Should, query)
                    })
                    .collect();
                Box::new(BooleanQuery::new(alternatives))
            }
            Condition::Age { of, older, days } => {
                let field = match of {
                    AgeOf::LastSeen => f.columns.last_seen,
                    AgeOf::Created => f.columns.created,
                };
                let since = now.saturating_sub((days * 86_400.0) as i64);
                let bound =
                    Term::from_field_date(field, tantivy::DateTime::from_timestamp_secs(since));
                if *older {
                    Box::new(RangeQuery::new(Bound::Unbounded, Bound::Excluded(bound)))
                } else {
                    Box::new(RangeQuery::new(Bound::Included(bound), Bound::Unbounded))
                }
            }
        }
    }

    /// The matches of `query` counted per value of one or two columns.
    fn groups(
        &self,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        keys: &[GroupKey],
    ) -> Result<Vec<(Vec<String>, usize)>> {
        let column = |key: &GroupKey| -> String {
            match key {
                GroupKey::Account => "q_account".to_owned(),
                GroupKey::Region => "q_region".to_owned(),
                GroupKey::Type => "q_type".to_owned(),
                GroupKey::State => "q_state".to_owned(),
                GroupKey::Environment => "q_env".to_owned(),
                GroupKey::Tag(tag) => format!("q_tags.{}", json_path(&tag.to_lowercase())),
                GroupKey::Attribute(name) => format!("q_attrs.{}", json_path(name)),
            }
        };
        let terms = |key: &GroupKey| {
            serde_json::json!({
                "field": column(key),
                "size": MAX_GROUPS,
                "segment_size": MAX_GROUPS,
                "missing": NO_VALUE,
            })
        };
        let mut aggregation = serde_json::json!({ "terms": terms(&keys[0]) });
        if let Some(inner) = keys.get(1) {
            aggregation["aggs"] = serde_json::json!({ "inner": { "terms": terms(inner) } });
        }
        let aggregations: Aggregations =
            serde_json::from_value(serde_json::json!({ "outer": aggregation }))
                .map_err(|e| Error::Index(format!("group aggregation: {e}")))?;
        let collector = AggregationCollector::from_aggs(
            aggregations,
            AggregationLimitsGuard::new(Some(GROUP_MEMORY), Some(MAX_GROUPS * 2)),
        );
        let answer = serde_json::to_value(searcher.search(query, &collector)?)
            .map_err(|e| Error::Index(format!("group aggregation result: {e}")))?;
        let mut groups = Vec::new();
        let outer = &answer["outer"];
        too_many_groups(outer)?;
        for bucket in outer["buckets"].as_array().into_iter().flatten() {
            let key = bucket_key(&bucket["key"]);
            let count = bucket["doc_count"].as_u64().unwrap_or(0) as usize;
            if keys.len() == 1 {
                groups.push((vec![key], count));
                continue;
            }
            too_many_groups(&bucket["inner"])?;
            for inner in bucket["inner"]["buckets"].as_array().into_iter().flatten() {
                let count = inner["doc_count"].as_u64().unwrap_or(0) as usize;
                groups.push((vec![key.clone(), bucket_key(&inner["key"])], count));
            }
        }
        groups.retain(|(_, count)| *count > 0);
        groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(groups)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::sample_resource as resource;
    use crate::model::Resource;

    const SANDBOX: (&str, &str) = ("111111111111", "sandbox");

    fn fixture() -> Vec<Resource> {
        vec![
            resource("web-1", "running", SANDBOX, &[("team", "data"), ("Name", "web-1")]),
            resource("web-2", "Stopped", SANDBOX, &[("team", "ops")]),
            resource("db-main", "running", ("222222222222", "Prod"), &[("Team", "data")]),
        ]
    }

    fn indexed(resources: &[Resource]) -> (tempfile::TempDir, LexicalIndex) {
        let directory = tempfile::tempdir().expect("temporary directory");
        let mut index = LexicalIndex::open(&directory.path().join("lexical")).expect("open");
        for resource in resources {
            let (text, filters) = (IndexedText::of(resource), FilterValues::of(resource));
            index.upsert(&resource.arn, &text, &filters).expect("upsert");
        }
        index.commit().expect("commit");
        (directory, index)
    }

    fn names(hits: &[LexicalHit]) -> Vec<String> {
        let mut names: Vec<String> = hits
            .iter()
            .map(|hit| hit.arn.rsplit('/').next().unwrap_or_default().to_owned())
            .collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn grams_are_the_two_and_three_letter_windows_once() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("a", &[]),
            ("ab", &["ab"]),
            ("abc", &["ab", "bc", "abc"]),
            ("aaaa", &["aa", "aaa"]),
            ("日本語", &["日本", "本語", "日本語"]),
        ];
        for (word, expected) in cases {
            assert_eq!(grams_of(word), *expected, "{word:?}");
        }
    }

    #[test]
    fn words_exact_values_and_filters_select_documents() {
        let (_directory, index) = indexed(&fixture());
        assert_eq!(index.num_docs(), 3);
        let all = LexicalFilter::default();
        let search = |words: &[&str], filter: &LexicalFilter, combine| {
            let words: Vec<String> = words.iter().map(|word| (*word).to_owned()).collect();
            names(&index.search(&words, filter, 10, combine).expect("search"))
        };
        assert_eq!(search(&["web"], &all, Combine::Every), ["web-1", "web-2"]);
        assert_eq!(search(&["web", "2"], &all, Combine::Every), ["web-2"]);
        assert_eq!(search(&["web", "main"], &all, Combine::Every), Vec::<String>::new());
        assert_eq!(search(&["web", "main"], &all, Combine::Any), ["db-main", "web-1", "web-2"]);
        // A typo of a word the estate lacks.
        assert_eq!(search(&["webb"], &all, Combine::Every), ["web-1", "web-2"]);
        let ops = LexicalFilter { tags: vec!["team=ops".into()], ..LexicalFilter::default() };
        assert_eq!(search(&["web"], &ops, Combine::Every), ["web-2"]);
        let running = LexicalFilter { states: vec!["running".into()], ..LexicalFilter::default() };
        assert_eq!(search(&["web"], &running, Combine::Every), ["web-1"]);
        // No words: everything the filter admits, and nothing without a filter.
        assert_eq!(search(&[], &running, Combine::Any), ["db-main", "web-1"]);
        assert_eq!(search(&[], &all, Combine::Any), Vec::<String>::new());
        let prod = LexicalFilter { accounts: vec!["prod".into()], ..LexicalFilter::default() };
        assert_eq!(search(&[], &prod, Combine::Any), ["db-main"]);

        let exact =
            |value: &str| names(&index.exact(&[value.to_owned()], 10, &all).expect("exact"));
        assert_eq!(exact("web-1"), ["web-1"]);
        assert_eq!(exact("arn:aws:ec2:us-west-2:222222222222:instance/db-main"), ["db-main"]);
        assert_eq!(exact("web"), Vec::<String>::new());

        let words = index.words_of(&[point_id(&fixture()[2].arn)]).expect("words");
        assert_eq!(words.len(), 1);
        assert_eq!(words[0].name_words, ["db", "main"]);
    }

    #[test]
    fn facet_counts_are_exact_and_skip_removed_documents() {
        let resources = fixture();
        let (_directory, mut index) = indexed(&resources);
        let counts = |index: &LexicalIndex, field| {
            index
                .facet_counts(field)
                .expect("counts")
                .into_iter()
                .map(|(value, count)| format!("{value}:{count}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(counts(&index, FacetField::State), "running:2 stopped:1");
        assert_eq!(counts(&index, FacetField::TagKey), "Name:1 Team:1 team:2");
        assert_eq!(counts(&index, FacetField::Region), "us-:3 us-west-2:3");
        assert_eq!(counts(&index, FacetField::ResourceType), "ec2_instance:3");
        assert_eq!(
            counts(&index, FacetField::Account),
            "111111111111\u{1f}sandbox:2 222222222222\u{1f}Prod:1"
        );
        assert_eq!(split_account("111111111111\u{1f}sandbox"), ("111111111111", "sandbox"));
        assert_eq!(split_account("111111111111"), ("111111111111", ""));

        index.remove(&resources[0].arn);
        index.commit().expect("commit");
        assert_eq!(index.num_docs(), 2);
        assert_eq!(counts(&index, FacetField::State), "running:1 stopped:1");
        assert_eq!(counts(&index, FacetField::TagKey), "Team:1 team:1");
        assert_eq!(
            counts(&index, FacetField::Account),
            "111111111111\u{1f}sandbox:1 222222222222\u{1f}Prod:1"
        );
    }
}
