//! A small hybrid index over documents that are not resources — the playbook library — with
//! the estate's machinery: a tantivy index (stemmed words, typo-tolerant terms) and a
//! qdrant-edge store (one point per title, description and example utterance), fused.
//!
//! Catalogs are rebuilt from their documents when a process starts (a library holds tens to
//! hundreds of documents), so they live in memory and in a temporary directory, never in a
//! user's data directory.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value as _,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{Index, IndexReader, TantivyDocument, Term};

use crate::embed::Embedder;
use crate::error::{Error, Result};
use crate::fusion::{Fusion, MatchKind, fuse};
use crate::vectors::VectorIndex;

/// A document to index: words to match and keyword facets to filter on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogDocument {
    /// A unique id, returned by searches.
    pub id: String,
    /// The title: its words weigh the most.
    pub title: String,
    /// A longer description.
    pub description: String,
    /// Example utterances that should find this document.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Keyword facets (e.g. `service` → `["rds"]`), filterable at search time. Keys must be
    /// among those the catalog was built with.
    #[serde(default)]
    pub facets: BTreeMap<String, Vec<String>>,
}

/// A search over a catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogQuery {
    /// What to look for, in plain words.
    pub text: String,
    /// Only documents carrying, for every facet key here, one of the listed values.
    #[serde(default)]
    pub facets: BTreeMap<String, Vec<String>>,
    /// The most hits to return.
    pub limit: usize,
}

/// One search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogHit {
    /// The document's id.
    pub id: String,
    /// Fused relevance in `0..=1`.
    pub score: f32,
    /// The best cosine similarity between the query and one of the document's texts, when
    /// the semantic side found it.
    pub similarity: Option<f32>,
    /// Which engines found it.
    pub matched_by: MatchKind,
}

struct Fields {
    position: Field,
    title: Field,
    body: Field,
    facets: HashMap<String, Field>,
}

/// The hybrid index over a fixed set of documents.
pub struct Catalog {
    ids: Vec<String>,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    vectors: VectorIndex,
    embedder: Arc<dyn Embedder>,
    // Holds the vector store's files for as long as the catalog lives.
    _directory: tempfile::TempDir,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("documents", &self.ids.len()).finish_non_exhaustive()
    }
}

/// The analyzer for titles, descriptions and examples: words, lowercased, English stop
/// words removed ("the", "it" are no evidence), English stems ("stopping" finds "stop").
const WORDS: &str = "catalog_words";

fn words_analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser);
    match StopWordFilter::new(Language::English) {
        Some(stop_words) => {
            builder.filter(stop_words).filter(Stemmer::new(Language::English)).build()
        }
        None => builder.filter(Stemmer::new(Language::English)).build(),
    }
}
/// Semantic candidates per requested hit: one document has several points.
const POINTS_PER_HIT: usize = 8;

fn catalog_error(error: impl std::fmt::Display) -> Error {
    Error::Index(format!("catalog: {error}"))
}

impl Catalog {
    /// Indexes `documents`. `facet_keys` names every facet documents and queries may use;
    /// `embedder` embeds documents now and queries later.
    pub fn build(
        documents: &[CatalogDocument],
        facet_keys: &[&str],
        embedder: Arc<dyn Embedder>,
    ) -> Result<Self> {
        let mut ids: Vec<String> = Vec::with_capacity(documents.len());
        for document in documents {
            if ids.contains(&document.id) {
                return Err(Error::InvalidInput(format!("duplicate document id {}", document.id)));
            }
            if let Some(key) =
                document.facets.keys().find(|key| !facet_keys.iter().any(|known| known == key))
            {
                return Err(Error::InvalidInput(format!(
                    "document {} uses the undeclared facet {key}",
                    document.id
                )));
            }
            ids.push(document.id.clone());
        }

        let mut builder = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(WORDS)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let position = builder.add_u64_field("position", STORED);
        let title = builder.add_text_field("title", text.clone());
        let body = builder.add_text_field("body", text);
        let facets: HashMap<String, Field> = facet_keys
            .iter()
            .map(|key| ((*key).to_owned(), builder.add_text_field(&format!("facet_{key}"), STRING)))
            .collect();
        let index = Index::create_in_ram(builder.build());
        index.tokenizers().register(WORDS, words_analyzer());
        let mut writer = index.writer::<TantivyDocument>(15_000_000).map_err(catalog_error)?;
        for (number, document) in documents.iter().enumerate() {
            let mut entry = TantivyDocument::default();
            entry.add_u64(position, number as u64);
            entry.add_text(title, &document.title);
            entry.add_text(body, &document.description);
            for example in &document.examples {
                entry.add_text(body, example);
            }
            for (key, values) in &document.facets {
                for value in values {
                    entry.add_text(facets[key], value);
                }
            }
            writer.add_document(entry).map_err(catalog_error)?;
        }
        writer.commit().map_err(catalog_error)?;
        let reader = index.reader().map_err(catalog_error)?;

        let directory = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let vectors = VectorIndex::open_with_keywords(directory.path(), facet_keys)?;
        let mut texts: Vec<(u64, &str)> = Vec::new();
        for (number, document) in documents.iter().enumerate() {
            let sources = std::iter::once(document.title.as_str())
                .chain(std::iter::once(document.description.as_str()))
                .chain(document.examples.iter().map(String::as_str))
                .filter(|text| !text.trim().is_empty());
            for (part, text) in sources.enumerate() {
                texts.push((point_number(number, part), text));
            }
        }
        let vectors_of =
            embedder.embed(&texts.iter().map(|(_, text)| *text).collect::<Vec<_>>())?;
        let mut points = Vec::with_capacity(texts.len());
        for ((point, _), vector) in texts.iter().zip(vectors_of) {
            let document = &documents[document_of(*point)];
            let mut payload = Map::new();
            for (key, values) in &document.facets {
                payload.insert(key.clone(), Value::from(values.clone()));
            }
            points.push((*point, vector, payload));
        }
        vectors.upsert_payloads(points)?;
        vectors.flush();

        Ok(Catalog {
            ids,
            index,
            reader,
            fields: Fields { position, title, body, facets },
            vectors,
            embedder,
            _directory: directory,
        })
    }

    /// How many documents the catalog holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the catalog holds no document.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The documents best matching `query`, best first.
    pub fn search(&self, query: &CatalogQuery) -> Result<Vec<CatalogHit>> {
        if let Some(key) = query.facets.keys().find(|key| !self.fields.facets.contains_key(*key)) {
            return Err(Error::InvalidInput(format!("unknown facet {key}")));
        }
        let limit = query.limit.max(1);
        let lexical = self.lexical(query, limit)?;
        let semantic = if query.text.trim().is_empty() {
            Vec::new()
        } else {
            let vector = self
                .embedder
                .embed(&[query.text.as_str()])?
                .into_iter()
                .next()
                .ok_or_else(|| Error::Model("the embedder returned no vector".into()))?;
            let keywords: Vec<(&str, &[String])> = query
                .facets
                .iter()
                .map(|(key, values)| (key.as_str(), values.as_slice()))
                .collect();
            let mut best: Vec<(u64, f32)> = Vec::new();
            for (point, similarity) in
                self.vectors.nearest(vector, &keywords, limit * POINTS_PER_HIT)?
            {
                let document = document_of(point) as u64;
                if !best.iter().any(|(seen, _)| *seen == document) {
                    best.push((document, similarity));
                }
            }
            best
        };
        let similarity: HashMap<u64, f32> = semantic.iter().copied().collect();
        let mut hits: Vec<CatalogHit> = fuse(Fusion::Rrf, &lexical, &semantic)
            .into_iter()
            .filter_map(|fused| {
                Some(CatalogHit {
                    id: self.ids.get(usize::try_from(fused.id).ok()?)?.clone(),
                    score: fused.score,
                    similarity: similarity.get(&fused.id).copied(),
                    matched_by: fused.kind,
                })
            })
            .collect();
        hits.truncate(limit);
        Ok(hits)
    }

    /// Lexical candidates: (document position, BM25 score), best first.
    fn lexical(&self, query: &CatalogQuery, limit: usize) -> Result<Vec<(u64, f32)>> {
        let mut analyzer =
            self.index.tokenizer_for_field(self.fields.title).map_err(catalog_error)?;
        let mut words: Vec<String> = Vec::new();
        let mut stream = analyzer.token_stream(&query.text);
        while stream.advance() {
            let word = stream.token().text.clone();
            if !words.contains(&word) {
                words.push(word);
            }
        }
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in &words {
            for (field, boost) in [(self.fields.title, 2.0), (self.fields.body, 1.0)] {
                let term = Term::from_field_text(field, word);
                alternatives.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                        boost,
                    )),
                ));
                if word.chars().count() >= 5 {
                    alternatives.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(FuzzyTermQuery::new(term, 1, true)),
                            boost * 0.3,
                        )),
                    ));
                }
            }
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(alternatives)))];
        for (key, values) in &query.facets {
            if values.is_empty() {
                continue;
            }
            let field = self.fields.facets[key];
            let any: Vec<(Occur, Box<dyn Query>)> = values
                .iter()
                .map(|value| {
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(
                            Term::from_field_text(field, value),
                            IndexRecordOption::Basic,
                        )) as Box<dyn Query>,
                    )
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&BooleanQuery::new(clauses), &TopDocs::with_limit(limit * 2))
            .map_err(catalog_error)?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let document: TantivyDocument = searcher.doc(address).map_err(catalog_error)?;
            if let Some(position) =
                document.get_first(self.fields.position).and_then(|v| v.as_u64())
            {
                hits.push((position, score));
            }
        }
        Ok(hits)
    }
}

/// Point ids: the document's position in the high bits, the text's number in the low 16.
fn point_number(document: usize, part: usize) -> u64 {
    ((document as u64) << 16) | (part as u64 & 0xffff)
}

fn document_of(point: u64) -> usize {
    (point >> 16) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::HashEmbedder;

    fn document(id: &str, title: &str, service: &str, examples: &[&str]) -> CatalogDocument {
        CatalogDocument {
            id: id.into(),
            title: title.into(),
            description: format!("{title} in AWS"),
            examples: examples.iter().map(|e| (*e).to_owned()).collect(),
            facets: BTreeMap::from([("service".to_owned(), vec![service.to_owned()])]),
        }
    }

    fn catalog() -> Catalog {
        let documents = vec![
            document("rds_stop", "Stop an RDS DB instance", "rds", &["stop the database"]),
            document("rds_reboot", "Reboot an RDS DB instance", "rds", &["restart the db"]),
            document("ec2_stop", "Stop EC2 instances", "ec2", &["shut down the server"]),
        ];
        Catalog::build(&documents, &["service"], Arc::new(HashEmbedder)).expect("catalog builds")
    }

    fn top(catalog: &Catalog, text: &str, service: Option<&str>) -> String {
        let facets = service
            .map(|s| BTreeMap::from([("service".to_owned(), vec![s.to_owned()])]))
            .unwrap_or_default();
        let hits = catalog
            .search(&CatalogQuery { text: text.into(), facets, limit: 3 })
            .expect("search works");
        hits.first().map(|hit| hit.id.clone()).unwrap_or_default()
    }

    #[test]
    fn finds_by_words_stems_and_typos_within_facets() {
        let catalog = catalog();
        assert_eq!(top(&catalog, "stop", Some("rds")), "rds_stop");
        assert_eq!(top(&catalog, "stopping", Some("ec2")), "ec2_stop");
        assert_eq!(top(&catalog, "rebot", Some("rds")), "rds_reboot");
        // The facet filter leaves only the EC2 document, whatever the words.
        assert_eq!(top(&catalog, "reboot", Some("ec2")), "ec2_stop");
    }

    #[test]
    fn refuses_undeclared_facets_and_duplicate_ids() {
        let catalog = catalog();
        let unknown = CatalogQuery {
            text: "stop".into(),
            facets: BTreeMap::from([("colour".to_owned(), vec!["red".to_owned()])]),
            limit: 1,
        };
        assert!(catalog.search(&unknown).is_err());
        let twice = vec![document("a", "A", "rds", &[]), document("a", "B", "rds", &[])];
        assert!(Catalog::build(&twice, &["service"], Arc::new(HashEmbedder)).is_err());
    }
}
