//! The qdrant-edge side of the estate index: one point per resource, holding the embedding
//! and the full resource as payload, with keyword indexes on the filter fields.
//!
//! This is also the record of truth: the lexical index can be rebuilt from it.

use std::path::Path;

use qdrant_edge::{
    Condition, CountRequest, CreateIndex, DEFAULT_VECTOR_NAME, Distance, EdgeConfigBuilder,
    EdgeShard, EdgeVectorParamsBuilder, FacetRequest, FacetValue, FieldCondition,
    FieldIndexOperations, Filter, JsonPath, Match, NamedQuery, Payload, PayloadFieldSchema,
    PayloadSchemaType, PointId, PointInsertOperations, PointOperations, PointStructPersisted,
    QueryEnum, Record, ScalarQuantizationConfig, ScalarType, ScrollRequest, SearchRequest,
    UpdateOperation, VectorInternal, VectorStructInternal, VectorStructPersisted, WalOptions,
    WithPayloadInterface, WithVector,
};
use serde_json::{Map, Value, json};

use crate::document::{FilterValues, LexicalFilter, point_id};
use crate::embed::DIMENSIONS;
use crate::error::{Error, Result};
use crate::model::Resource;

const FILTER_FIELDS: [&str; 7] =
    ["resource_type", "accounts", "account_name", "regions", "environment", "tag_pairs", "state"];

fn index_error(error: impl std::fmt::Display) -> Error {
    Error::Index(format!("vector index: {error}"))
}

/// A stored point, as read back.
pub(crate) struct StoredPoint {
    pub resource: Resource,
    pub content_hash: String,
    pub text_hash: String,
    pub vector: Option<Vec<f32>>,
}

/// A point to write.
pub(crate) struct NewPoint<'a> {
    pub resource: &'a Resource,
    pub filters: &'a FilterValues,
    pub content_hash: &'a str,
    pub text_hash: &'a str,
    pub vector: Vec<f32>,
}

pub(crate) struct VectorIndex {
    shard: EdgeShard,
}

impl VectorIndex {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        Self::open_with_keywords(path, &FILTER_FIELDS)
    }

    /// Opens (or creates) a store at `path` with keyword indexes on `keyword_fields`.
    pub(crate) fn open_with_keywords(path: &Path, keyword_fields: &[&str]) -> Result<Self> {
        std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        // qdrant-edge 0.7.2 numbers every update from its write-ahead log and skips updates
        // whose number is not above a point's stored version. The log must therefore be
        // kept: with a fresh one, numbering restarts at zero and every update or deletion of
        // a point written by an earlier process is silently skipped. What qdrant-edge never
        // truncates itself, `prune_log` does, before the shard opens.
        prune_log(&path.join("wal"))?;
        // Vectors live in memory-mapped files rather than in RAM: qdrant's in-RAM storage
        // populates a whole 32 MiB chunk however few vectors it holds (4.6 MiB for the seed
        // estate), and a mapping lets the kernel keep only the pages searches touch. Segments
        // written before keep their stored type; the two are compatible.
        //
        // Searches walk the graph over 8-bit copies of the vectors held in RAM (384 bytes a
        // resource, a quarter of the floats) and rescore only the best few with the floats:
        // a search then touches few pages of the mapped file, which keeps it fast on a cold
        // page cache and on estates larger than memory would hold in floats.
        let quantization = ScalarQuantizationConfig {
            r#type: ScalarType::Int8,
            quantile: Some(0.99),
            always_ram: Some(true),
        };
        let config = EdgeConfigBuilder::new()
            .vector(
                DEFAULT_VECTOR_NAME,
                EdgeVectorParamsBuilder::new(DIMENSIONS, Distance::Cosine)
                    .on_disk(true)
                    .quantization_config(quantization.into())
                    .build(),
            )
            .on_disk_payload(true)
            .wal_options(WalOptions {
                segment_capacity: LOG_SEGMENT_BYTES,
                ..WalOptions::default()
            })
            .build();
        let shard = EdgeShard::load(path, Some(config)).map_err(index_error)?;
        let index = VectorIndex { shard };
        for field in keyword_fields {
            // Idempotent: segments that already have the index answer "already exists".
            let _ = index.shard.update(UpdateOperation::FieldIndexOperation(
                FieldIndexOperations::CreateIndex(CreateIndex {
                    field_name: json_path(field)?,
                    field_schema: Some(PayloadFieldSchema::FieldType(PayloadSchemaType::Keyword)),
                }),
            ));
        }
        Ok(index)
    }

    pub(crate) fn upsert(&self, points: Vec<NewPoint<'_>>) -> Result<()> {
        if points.is_empty() {
            return Ok(());
        }
        let mut batch = Vec::with_capacity(points.len());
        for point in points {
            let resource = serde_json::to_value(point.resource)
                .map_err(|e| Error::Index(format!("cannot encode resource: {e}")))?;
            let payload = json!({
                "arn": point.resource.arn,
                "resource": resource,
                "content_hash": point.content_hash,
                "text_hash": point.text_hash,
                "resource_type": point.filters.resource_type,
                "accounts": point.filters.accounts,
                "account_name": point.resource.account_name.to_lowercase(),
                "regions": point.filters.regions,
                "environment": point.filters.environment,
                "tag_pairs": point.filters.tags,
                "state": point.filters.state,
            });
            let Value::Object(payload) = payload else {
                return Err(Error::Index("payload is not an object".into()));
            };
            batch.push((point_id(&point.resource.arn), point.vector, payload));
        }
        self.upsert_payloads(batch)
    }

    /// Writes points given as (id, vector, payload object).
    pub(crate) fn upsert_payloads(
        &self,
        points: Vec<(u64, Vec<f32>, Map<String, Value>)>,
    ) -> Result<()> {
        if points.is_empty() {
            return Ok(());
        }
        let batch = points
            .into_iter()
            .map(|(id, vector, payload)| PointStructPersisted {
                id: PointId::NumId(id),
                vector: VectorStructPersisted::Single(vector),
                payload: Some(Payload(payload)),
            })
            .collect();
        self.shard
            .update(UpdateOperation::PointOperation(PointOperations::UpsertPoints(
                PointInsertOperations::PointsList(batch),
            )))
            .map_err(index_error)
    }

    pub(crate) fn remove(&self, ids: Vec<u64>) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.shard
            .update(UpdateOperation::PointOperation(PointOperations::DeletePoints {
                ids: ids.into_iter().map(PointId::NumId).collect(),
            }))
            .map_err(index_error)
    }

    fn retrieve(
        &self,
        ids: &[u64],
        payload: WithPayloadInterface,
        with_vector: bool,
    ) -> Result<Vec<Record>> {
        let ids: Vec<PointId> = ids.iter().copied().map(PointId::NumId).collect();
        self.shard
            .retrieve(&ids, Some(payload), Some(WithVector::Bool(with_vector)))
            .map_err(index_error)
    }

    /// Reads points by id, in the order given; missing ids are skipped.
    pub(crate) fn get(&self, ids: &[u64], with_vector: bool) -> Result<Vec<StoredPoint>> {
        let records = self.retrieve(ids, WithPayloadInterface::Bool(true), with_vector)?;
        records.into_iter().map(stored_point).collect()
    }

    /// The distinct account names in the store, from the keyword index (no scan).
    pub(crate) fn account_names(&self) -> Result<Vec<String>> {
        let response = self
            .shard
            .facet(FacetRequest {
                key: json_path("account_name")?,
                limit: 100_000,
                filter: None,
                exact: true,
            })
            .map_err(index_error)?;
        Ok(response
            .hits
            .into_iter()
            .filter_map(|hit| match hit.value {
                FacetValue::Keyword(name) if !name.is_empty() => Some(name),
                _ => None,
            })
            .collect())
    }

    pub(crate) fn count(&self) -> Result<usize> {
        self.shard.count(CountRequest { filter: None, exact: true }).map_err(index_error)
    }

    /// Calls `visit` with every stored point, a page at a time.
    pub(crate) fn for_each(&self, mut visit: impl FnMut(StoredPoint) -> Result<()>) -> Result<()> {
        let mut offset = None;
        loop {
            let (page, next) = self
                .shard
                .scroll(ScrollRequest {
                    offset,
                    limit: Some(512),
                    filter: None,
                    with_payload: Some(WithPayloadInterface::Bool(true)),
                    with_vector: WithVector::Bool(false),
                    order_by: None,
                })
                .map_err(index_error)?;
            for record in page {
                visit(stored_point(record)?)?;
            }
            match next {
                Some(id) => offset = Some(id),
                None => return Ok(()),
            }
        }
    }

    /// Nearest neighbours of `vector` within `filter`: (point id, cosine similarity).
    pub(crate) fn search(
        &self,
        vector: Vec<f32>,
        filter: &LexicalFilter,
        limit: usize,
    ) -> Result<Vec<(u64, f32)>> {
        self.nearest_within(vector, to_filter(filter)?, limit)
    }

    /// Nearest neighbours of `vector` among points whose keyword field matches one of the
    /// given values, for every (field, values) pair with values.
    pub(crate) fn nearest(
        &self,
        vector: Vec<f32>,
        keywords: &[(&str, &[String])],
        limit: usize,
    ) -> Result<Vec<(u64, f32)>> {
        let mut must = Vec::new();
        for (field, values) in keywords {
            if !values.is_empty() {
                must.push(any_of(field, values)?);
            }
        }
        let filter = (!must.is_empty()).then(|| Filter { must: Some(must), ..Filter::default() });
        self.nearest_within(vector, filter, limit)
    }

    fn nearest_within(
        &self,
        vector: Vec<f32>,
        filter: Option<Filter>,
        limit: usize,
    ) -> Result<Vec<(u64, f32)>> {
        let hits = self
            .shard
            .search(SearchRequest {
                query: QueryEnum::Nearest(NamedQuery {
                    query: VectorInternal::Dense(vector),
                    using: None,
                }),
                filter,
                params: None,
                limit,
                offset: 0,
                with_payload: None,
                with_vector: None,
                score_threshold: None,
            })
            .map_err(index_error)?;
        Ok(hits
            .into_iter()
            .filter_map(|hit| match hit.id {
                PointId::NumId(id) => Some((id, hit.score)),
                PointId::Uuid(_) => None,
            })
            .collect())
    }

    /// Builds the HNSW graph over what bulk loads left in plain segments.
    pub(crate) fn optimize(&self) -> Result<()> {
        self.shard.optimize().map(|_| ()).map_err(index_error)
    }

    pub(crate) fn flush(&self) {
        self.shard.flush();
    }
}

/// The size of the write-ahead log's segments (qdrant-edge's default is 32 MiB). A seed-sized
/// estate's full sync writes about 10 MiB to the log; what [`prune_log`] keeps on disk is at
/// most the newest closed segment and the open one.
const LOG_SEGMENT_BYTES: usize = 8 << 20;

/// Removes the write-ahead log's closed segments (`closed-<first index>`) but the newest.
/// qdrant-edge 0.7.2 never truncates the log and never reads it back (loading replays
/// nothing; the segments are flushed): the newest closed segment and the open ones
/// (`open-<n>`) hold the last update's number, which the log continues from, and nothing
/// else is needed. Call while the log is not open (the estate's lock keeps other processes
/// out).
fn prune_log(dir: &Path) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(Error::io(dir, error)),
    };
    let mut closed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let start = entry.file_name().to_str().and_then(|name| {
            name.strip_prefix("closed-").and_then(|start| start.parse::<u64>().ok())
        });
        if let Some(start) = start {
            closed.push((start, entry.path()));
        }
    }
    closed.sort_unstable();
    closed.pop();
    for (_, path) in closed {
        std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}

fn json_path(field: &str) -> Result<JsonPath> {
    field.parse::<JsonPath>().map_err(|()| Error::Index(format!("bad payload path {field}")))
}

fn any_of(field: &str, values: &[String]) -> Result<Condition> {
    Ok(Condition::Field(FieldCondition::new_match(json_path(field)?, Match::from(values.to_vec()))))
}

fn to_filter(filter: &LexicalFilter) -> Result<Option<Filter>> {
    let mut must = Vec::new();
    for (field, values) in [
        ("resource_type", &filter.resource_types),
        ("accounts", &filter.accounts),
        ("regions", &filter.regions),
        ("environment", &filter.environments),
        ("state", &filter.states),
    ] {
        if !values.is_empty() {
            must.push(any_of(field, values)?);
        }
    }
    for tag in &filter.tags {
        must.push(any_of("tag_pairs", std::slice::from_ref(tag))?);
    }
    Ok((!must.is_empty()).then(|| Filter { must: Some(must), ..Filter::default() }))
}

fn stored_point(record: Record) -> Result<StoredPoint> {
    let mut payload: Map<String, Value> = record.payload.map(|p| p.0).unwrap_or_default();
    let text = |payload: &Map<String, Value>, key: &str| {
        payload.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
    };
    let content_hash = text(&payload, "content_hash");
    let text_hash = text(&payload, "text_hash");
    let resource = payload
        .remove("resource")
        .ok_or_else(|| Error::Index("stored point has no resource".into()))?;
    let resource: Resource = serde_json::from_value(resource)
        .map_err(|e| Error::Index(format!("stored resource is unreadable: {e}")))?;
    let vector = match record.vector {
        Some(VectorStructInternal::Single(vector)) => Some(vector),
        _ => None,
    };
    Ok(StoredPoint { resource, content_hash, text_hash, vector })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::sample_resource;

    fn file_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read directory")
            .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn pruning_keeps_the_newest_closed_segment_and_the_open_ones() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let log = directory.path().join("wal");
        std::fs::create_dir(&log).expect("log directory");
        for name in ["closed-0", "closed-100", "closed-20", "closed-x", "open-1", "open-2", "meta"]
        {
            std::fs::write(log.join(name), b"").expect("segment");
        }
        prune_log(&log).expect("prune");
        assert_eq!(file_names(&log), ["closed-100", "closed-x", "meta", "open-1", "open-2"]);
        prune_log(&log).expect("prune again");
        assert_eq!(file_names(&log), ["closed-100", "closed-x", "meta", "open-1", "open-2"]);
        prune_log(&directory.path().join("missing")).expect("no log yet");
    }

    #[test]
    fn filters_are_one_condition_per_field_and_per_tag() {
        let conditions = |filter: &LexicalFilter| {
            to_filter(filter).expect("filter").map(|filter| filter.must.unwrap_or_default().len())
        };
        assert_eq!(conditions(&LexicalFilter::default()), None);
        let filter = LexicalFilter {
            resource_types: vec!["ec2_instance".into()],
            regions: vec!["us-west-2".into(), "eu-".into()],
            tags: vec!["team=data".into(), "owner=alice".into()],
            ..LexicalFilter::default()
        };
        assert_eq!(conditions(&filter), Some(4));
    }

    /// A unit vector along `axis`.
    fn axis(axis: usize) -> Vec<f32> {
        let mut vector = vec![0.0; DIMENSIONS];
        vector[axis] = 1.0;
        vector
    }

    #[test]
    fn points_are_stored_searched_within_filters_and_removed() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let index = VectorIndex::open(directory.path()).expect("open");
        let resources = [
            sample_resource("web-1", "running", ("111111111111", "Sandbox"), &[("team", "data")]),
            sample_resource("web-2", "stopped", ("111111111111", "Sandbox"), &[("team", "ops")]),
            sample_resource("db-main", "running", ("222222222222", "prod"), &[]),
        ];
        let filters: Vec<FilterValues> = resources.iter().map(FilterValues::of).collect();
        let points = resources
            .iter()
            .zip(&filters)
            .enumerate()
            .map(|(position, (resource, filters))| NewPoint {
                resource,
                filters,
                content_hash: "content",
                text_hash: "text",
                vector: axis(position),
            })
            .collect();
        index.upsert(points).expect("upsert");
        assert_eq!(index.count().expect("count"), 3);
        let ids: Vec<u64> = resources.iter().map(|resource| point_id(&resource.arn)).collect();

        let stored = index.get(&ids[1..2], true).expect("get");
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].resource, resources[1]);
        assert_eq!(stored[0].content_hash, "content");
        assert_eq!(stored[0].vector.as_ref().map(Vec::len), Some(DIMENSIONS));

        let nearest = |filter: &LexicalFilter| -> Vec<u64> {
            index
                .search(axis(1), filter, 3)
                .expect("search")
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        };
        assert_eq!(nearest(&LexicalFilter::default())[0], ids[1]);
        let running = LexicalFilter { states: vec!["running".into()], ..LexicalFilter::default() };
        let mut found = nearest(&running);
        found.sort_unstable();
        let mut expected = vec![ids[0], ids[2]];
        expected.sort_unstable();
        assert_eq!(found, expected);
        let data = LexicalFilter { tags: vec!["team=data".into()], ..LexicalFilter::default() };
        assert_eq!(nearest(&data), [ids[0]]);

        let mut names = index.account_names().expect("account names");
        names.sort();
        assert_eq!(names, ["prod", "sandbox"]);

        index.remove(vec![ids[0]]).expect("remove");
        assert_eq!(index.count().expect("count"), 2);
        assert!(index.get(&ids[..1], false).expect("get").is_empty());
    }
}
