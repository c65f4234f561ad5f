//! `cloudops-server`: loads the playbook library, connects the metadata store and serves the
//! planning API until SIGTERM or Ctrl-C.
#![forbid(unsafe_code)]

use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use cloudops_playbooks::{Library, Planner};
use cloudops_server::{
    AdvisorConfig, App, EmbeddedStore, MetadataStore, RedisStore, ServerConfig, choose_embedder,
    redact_url, serve,
};

/// Logs without `RUST_LOG`: the server's own at info; the index engines' chatter about
/// building the in-memory playbook index only when it matters.
const DEFAULT_LOG_FILTER: &str = "info,tantivy=warn,qdrant_edge=error,qdrant=error";

/// The stateless CloudOps planning server.
#[derive(Debug, Parser)]
#[command(name = "cloudops-server", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed once listening).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve the playbooks in this directory (in a Git repository, to report its commit)
    /// instead of the built-in library.
    #[arg(long, value_name = "DIR")]
    playbooks: Option<PathBuf>,
    /// Share metadata (catalog, usage, rate limits) through Redis, e.g. redis://host:6379.
    /// Without it, metadata lives in this process.
    #[arg(long, value_name = "URL", env = "CLOUDOPS_METADATA_URL")]
    metadata_url: Option<String>,
    /// Requests per client per minute on /v1/*; 0 disables rate limiting.
    #[arg(long, value_name = "N", default_value_t = 600)]
    rate_limit: u32,
    /// Key clients by the last x-forwarded-for address (only behind a proxy that sets it).
    #[arg(long)]
    trust_forwarded_for: bool,
    /// The embedder of playbook retrieval: `hashing` (default; words and character
    /// trigrams, no model) or `minilm` (all-MiniLM-L6-v2, when installed). Hashing is the
    /// default because it measured more accurate on the labelled prompts (0.989 against
    /// 0.948) and about 90 times cheaper per new prompt (docs/benchmarks.md).
    #[arg(long, value_enum, default_value_t = EmbedderChoice::Hashing)]
    embedder: EmbedderChoice,
    /// An OpenAI-compatible chat API (e.g. `http://127.0.0.1:11434/v1`) asked to choose among
    /// the retrieved playbooks when retrieval is not confident. Off by default. Its answer
    /// can only name an offered playbook; a bearer token is read from
    /// `CLOUDOPS_LLM_API_KEY`.
    #[arg(long, value_name = "URL")]
    llm_url: Option<String>,
    /// The model name sent to `--llm-url`.
    #[arg(long, value_name = "NAME", default_value = "default")]
    llm_model: String,
    /// Seconds to wait for the model before answering without it.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    llm_timeout: u64,
    /// Seconds a request may take before it is answered with a timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    request_timeout: u64,
    /// Seconds a client may take to send request headers (and keep an idle connection).
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    header_timeout: u64,
    /// Seconds in-flight requests get to finish after SIGTERM.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    shutdown_grace: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .init();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let library = match &args.playbooks {
        Some(directory) => {
            let library = Library::load(directory).with_context(|| {
                format!("cannot read the playbook directory {}", directory.display())
            })?;
            for problem in library.problems() {
                tracing::warn!("playbook left out: {problem}");
            }
            if library.is_empty() {
                bail!(
                    "no valid playbook in {} ({} files with problems, listed above); fix them or point --playbooks at a library",
                    directory.display(),
                    library.problems().len()
                );
            }
            library
        }
        None => Library::builtin(),
    };
    let (embedder, embedder_name) = choose_embedder(args.embedder == EmbedderChoice::Hashing);
    let planner = tokio::task::spawn_blocking(move || Planner::new(library, embedder))
        .await
        .context("building the playbook index panicked")?
        .context("cannot index the playbook library")?;
    let metadata: Arc<dyn MetadataStore> = match &args.metadata_url {
        Some(url) => {
            let store = RedisStore::connect(url, "cloudops:").await?;
            tracing::info!(url = %redact_url(url), "metadata in Redis");
            Arc::new(store)
        }
        None => Arc::new(EmbeddedStore::new()),
    };
    let config = ServerConfig {
        rate_limit_per_minute: args.rate_limit,
        trust_forwarded_for: args.trust_forwarded_for,
        request_timeout: Duration::from_secs(args.request_timeout.max(1)),
        header_read_timeout: Duration::from_secs(args.header_timeout.max(1)),
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
        advisor: args.llm_url.map(|url| AdvisorConfig {
            url,
            model: args.llm_model,
            api_key: std::env::var("CLOUDOPS_LLM_API_KEY").ok().filter(|key| !key.is_empty()),
            timeout: Duration::from_secs(args.llm_timeout.max(1)),
        }),
        ..ServerConfig::default()
    };
    let app = App::new(planner, metadata, &embedder_name, config.clone()).await?;
    let library = app.library();
    tracing::info!(
        playbooks = library.playbooks,
        problems = library.problems,
        commit = library.commit.as_deref().unwrap_or("-"),
        dirty = library.dirty,
        embedder = %embedder_name,
        "library loaded"
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    let shutdown = shutdown_signal()?;
    tracing::info!(%address, "listening");
    // The one line on stdout: scripts and tests read the port from it.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{address}")?;
    stdout.flush()?;
    drop(stdout);
    serve(listener, app.router(), &config, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Listens for SIGTERM and Ctrl-C (SIGINT) now, so a signal sent as soon as the address is
/// printed is not missed, and returns a future that completes on either.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
            _ = interrupt.recv() => tracing::info!("interrupt received"),
        }
    })
}

/// The embedders `--embedder` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EmbedderChoice {
    /// The built-in hashing embedder.
    Hashing,
    /// all-MiniLM-L6-v2 run with candle (falls back to hashing, with a warning, when the
    /// model is not installed).
    Minilm,
}
