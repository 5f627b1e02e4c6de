//! The `spoorloos` binary: command line → configuration → `app::run`. Errors are
//! reported here, once, with the key or value that caused them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use spoorloos::clock::Clock;
use spoorloos::config::{Config, Overrides, PrivacySignalPolicy, normalise_site};
use spoorloos::receive::{local_url, snippet};

#[derive(Parser)]
#[command(
    name = "spoorloos",
    version,
    about = "Cookie-less, metadata-minimising web analytics collector"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the collector (the default).
    Serve(ServeArgs),
    /// Print the HTML to paste into a site's pages.
    Snippet {
        /// The site's domain, e.g. smtware.com.
        #[arg(long)]
        site: String,
        /// Where the collector is reachable from visitors' browsers.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        endpoint: String,
    },
    /// Validate the configuration and print it.
    CheckConfig(ServeArgs),
    /// Make a Stats API key: prints a new random key and the hash for `[[api_keys]]`;
    /// with a key on standard input, prints only that key's hash.
    HashKey {
        /// Read the key from standard input instead of generating one.
        #[arg(long)]
        stdin: bool,
    },
    /// Make a dashboard password hash for `[[dashboard.users]]`: reads the password
    /// from standard input (one line).
    HashPassword,
    /// Move a stopped collector's events into the ClickHouse cluster of
    /// `[clickhouse]`, a day at a time; run again to resume (nothing is sent twice).
    MigrateToClickhouse {
        /// The DuckDB file (stop the collector first).
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// Make a read-only link to one site's dashboard: prints the link's token and the
    /// entry for `[[dashboard.shared_links]]` (remove the entry to revoke it).
    ShareLink {
        /// The site the link opens, e.g. smtware.com.
        #[arg(long)]
        site: String,
        /// Where the dashboard is reachable [default: the config's
        /// `dashboard.public_url`, else its `listen` address].
        #[arg(long)]
        url: Option<String>,
    },
    /// Answer a marketing question in the terminal: from a running collector's
    /// Stats API, or from the database file (read-only) when no collector answers.
    Report(ReportArgs),
    /// Write daily aggregates (day × dimension × value) as CSV or Parquet, from the
    /// database file (stop the collector first).
    Export(ExportArgs),
    /// Print a privacy statement generated from the configuration.
    Privacy {
        /// Language: en or nl.
        #[arg(long, default_value = "en")]
        lang: String,
    },
}

#[derive(Args)]
struct ReportArgs {
    /// The site's domain, e.g. smtware.com.
    #[arg(long)]
    site: String,
    /// day, 7d, 28d, 30d, month, 6mo, 12mo, year, all, or FROM,TO (YYYY-MM-DD).
    #[arg(long, default_value = "30d")]
    period: String,
    /// Break down by: page, source, channel, country, device, browser, os, connection,
    /// entry_page, exit_page, utm_source, utm_medium, utm_campaign, referrer, screen,
    /// hostname, goal (or a Stats API property such as visit:os_version).
    #[arg(long)]
    by: Option<String>,
    /// Stats API v1 filters, e.g. "visit:country==NL;event:page==/blog*".
    #[arg(long)]
    filter: Option<String>,
    /// Add the previous period's numbers and the change: `previous`.
    #[arg(long)]
    compare: Option<String>,
    /// Comma-separated metrics [default: visitors,visits,pageviews,bounce_rate,visit_duration].
    #[arg(long)]
    metrics: Option<String>,
    /// table, csv or json.
    #[arg(long, default_value = "table")]
    format: String,
    /// Rows at most (1–1000).
    #[arg(long, default_value_t = 20)]
    limit: u64,
    /// The collector's base URL [default: from the config's `listen`].
    #[arg(long)]
    url: Option<String>,
    /// A Stats API key for the collector.
    #[arg(long, env = "SPOORLOOS_API_KEY", hide_env_values = true)]
    key: Option<String>,
}

#[derive(Args)]
struct ExportArgs {
    /// The site's domain, e.g. smtware.com.
    #[arg(long)]
    site: String,
    /// First day (YYYY-MM-DD, UTC).
    #[arg(long)]
    from: String,
    /// Last day, inclusive (YYYY-MM-DD, UTC).
    #[arg(long)]
    to: String,
    /// csv or parquet.
    #[arg(long, default_value = "csv")]
    format: String,
    /// Output file [default: SITE_FROM_TO.csv|parquet in the current directory].
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args, Clone, Default)]
struct ServeArgs {
    /// TOML configuration file [default: ./spoorloos.toml if present].
    #[arg(long, env = "SPOORLOOS_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "SPOORLOOS_LISTEN", global = true)]
    listen: Option<SocketAddr>,
    /// DuckDB database file [default: spoorloos.duckdb].
    #[arg(long, env = "SPOORLOOS_DATABASE", global = true)]
    database: Option<PathBuf>,
    /// A site domain to accept (repeatable; env: comma separated).
    #[arg(
        long = "site",
        env = "SPOORLOOS_SITES",
        value_delimiter = ',',
        global = true
    )]
    sites: Vec<String>,
    /// A trusted reverse proxy, address or CIDR (repeatable; env: comma separated).
    #[arg(
        long = "trusted-proxy",
        env = "SPOORLOOS_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    trusted_proxies: Vec<String>,
    /// GeoIP2/GeoLite2 or DB-IP country (or city) database.
    #[arg(long, env = "SPOORLOOS_GEOIP_COUNTRY", global = true)]
    geoip_country: Option<PathBuf>,
    /// GeoIP2 Connection-Type database.
    #[arg(long, env = "SPOORLOOS_GEOIP_CONNECTION_TYPE", global = true)]
    geoip_connection_type: Option<PathBuf>,
    /// Referrer-spam host list (e.g. Matomo's spammers.txt).
    #[arg(long, env = "SPOORLOOS_REFERRER_SPAM_LIST", global = true)]
    referrer_spam_list: Option<PathBuf>,
    /// What to do with hits carrying Sec-GPC / DNT.
    #[arg(long, env = "SPOORLOOS_PRIVACY_SIGNALS", value_enum, global = true)]
    privacy_signals: Option<PrivacySignalPolicy>,
    /// Testing aid: start the clock at this RFC 3339 instant (e.g. just before midnight).
    #[arg(long, env = "SPOORLOOS_CLOCK_START", hide = true, global = true)]
    clock_start: Option<String>,
}

impl ServeArgs {
    fn load(&self) -> anyhow::Result<Config> {
        let default_file = Path::new("spoorloos.toml");
        let file = self
            .config
            .clone()
            .or_else(|| default_file.is_file().then(|| default_file.to_owned()));
        let mut config = match &file {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        Overrides {
            listen: self.listen,
            database: self.database.clone(),
            sites: self.sites.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
            geoip_country: self.geoip_country.clone(),
            geoip_connection_type: self.geoip_connection_type.clone(),
            referrer_spam_list: self.referrer_spam_list.clone(),
            privacy_signals: self.privacy_signals,
        }
        .apply(&mut config);
        Ok(config.validate()?)
    }

    fn clock(&self) -> anyhow::Result<Clock> {
        match &self.clock_start {
            None => Ok(Clock::system()),
            Some(text) => {
                let at = chrono::DateTime::parse_from_rfc3339(text)
                    .with_context(|| format!("--clock-start {text:?} is not an RFC 3339 time"))?;
                Ok(Clock::starting_at(at.to_utc()))
            }
        }
    }
}

fn main() -> anyhow::Result<()> {
    let unguarded = spoorloos::app::guard_process();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Snippet { site, endpoint }) => {
            let Some(site) = normalise_site(&site) else {
                bail!("--site {site:?} is not a domain name");
            };
            let url = url::Url::parse(&endpoint)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if url.is_none() {
                bail!("--endpoint {endpoint:?} is not an http(s) URL");
            }
            print!("{}", snippet::both(&site, &endpoint));
            Ok(())
        }
        Some(Command::CheckConfig(args)) => {
            let config = args.load()?;
            println!("configuration is valid:\n{config:#?}");
            Ok(())
        }
        Some(Command::HashKey { stdin }) => hash_key(stdin),
        Some(Command::HashPassword) => hash_password(),
        Some(Command::MigrateToClickhouse { from }) => {
            let config = cli.serve.load()?;
            spoorloos::report::migrate::migrate(&config, &from, &mut std::io::stdout())?;
            Ok(())
        }
        Some(Command::ShareLink { site, url }) => {
            let config = cli.serve.load()?;
            share_link(&config, &site, url.as_deref())
        }
        Some(Command::Report(args)) => {
            let config = cli.serve.load()?;
            let clock = cli.serve.clock()?;
            report(&args, &config, clock)
        }
        Some(Command::Export(args)) => {
            let config = cli.serve.load()?;
            let options = spoorloos::report::export::ExportOptions {
                site: args.site,
                from: args.from,
                to: args.to,
                format: args.format,
                out: args.out,
            };
            let (path, rows) = finish(spoorloos::report::export::export(&options, &config));
            eprintln!(
                "spoorloos: wrote {rows} rows to {} (from the database file {})",
                path.display(),
                config.database.display()
            );
            Ok(())
        }
        Some(Command::Privacy { lang }) => {
            let config = cli.serve.load()?;
            let lang = finish(spoorloos::report::privacy::Lang::parse(&lang));
            print!("{}", spoorloos::report::privacy::statement(&config, lang));
            Ok(())
        }
        Some(Command::Serve(args)) => serve(&args, unguarded),
        None => serve(&cli.serve, unguarded),
    }
}

/// The value, or the error on stderr and its exit code (2 for a bad value).
fn finish<T>(result: Result<T, spoorloos::report::ReportError>) -> T {
    result.unwrap_or_else(|e| {
        eprintln!("spoorloos: {e}");
        std::process::exit(e.exit_code())
    })
}

fn report(args: &ReportArgs, config: &Config, clock: Clock) -> anyhow::Result<()> {
    use spoorloos::report;
    let format = finish(report::parse_format(&args.format));
    let options = report::ReportOptions {
        site: args.site.clone(),
        period: args.period.clone(),
        by: args.by.clone(),
        filter: args.filter.clone(),
        compare: args.compare.clone(),
        metrics: args.metrics.clone(),
        format: args.format.clone(),
        limit: args.limit,
        url: args.url.clone(),
        key: args.key.clone(),
    };
    let (table, answered_by) = finish(report::report(&options, config, clock));
    eprintln!("spoorloos: {answered_by}");
    print!("{}", table.render(format));
    Ok(())
}

fn hash_key(stdin: bool) -> anyhow::Result<()> {
    use spoorloos::query::keys;
    if stdin {
        let mut key = String::new();
        std::io::stdin()
            .read_line(&mut key)
            .context("cannot read the key from standard input")?;
        if key.trim().is_empty() {
            bail!("no key on standard input");
        }
        println!("{}", keys::hash_key(&key));
        return Ok(());
    }
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    println!("key:  {key}");
    println!("hash: {}", keys::hash_key(&key));
    println!("\nGive the key to the API client; put only the hash in the config:");
    println!(
        "[[api_keys]]\nname = \"…\"\nhash = \"{}\"",
        keys::hash_key(&key)
    );
    Ok(())
}

fn hash_password() -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.chars().count() < spoorloos::dashboard::users::MIN_PASSWORD {
        bail!(
            "the password on standard input is shorter than {} characters",
            spoorloos::dashboard::users::MIN_PASSWORD
        );
    }
    let hash = spoorloos::dashboard::users::hash_password(password)?;
    println!("{hash}");
    eprintln!(
        "\nPut it in the config:\n[[dashboard.users]]\nname = \"…\"\npassword_hash = \"{hash}\""
    );
    Ok(())
}

fn share_link(config: &Config, site: &str, url: Option<&str>) -> anyhow::Result<()> {
    let Some(site) = normalise_site(site).filter(|s| config.sites.contains(s)) else {
        bail!(
            "--site {site:?} is not one of the configured sites ({})",
            config.sites.join(", ")
        );
    };
    let token =
        spoorloos::dashboard::random_token().map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let base = url
        .map(str::to_owned)
        .or_else(|| config.dashboard.public_url.clone())
        .unwrap_or_else(|| local_url(config.listen));
    println!("{}/share/{token}", base.trim_end_matches('/'));
    eprintln!(
        "\nAnyone with this link sees {site}'s dashboard, read-only. Put this in the config\n\
         and restart; delete it to revoke the link:\n\n\
         [[dashboard.shared_links]]\nname = \"…\"\nsite = \"{site}\"\ntoken_hash = \"{}\"",
        spoorloos::dashboard::hash_token(&token)
    );
    Ok(())
}

fn serve(args: &ServeArgs, unguarded: Option<String>) -> anyhow::Result<()> {
    let config = args.load()?;
    let clock = args.clock()?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if let Some(why) = unguarded {
        tracing::warn!("{why}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let shutdown = shutdown_signal()?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {} (config key `listen`)", config.listen))?;
        let addr = listener.local_addr()?;
        let url = local_url(addr);
        let database = config.database.display().to_string();
        let sites = config.sites.join(", ");
        let site = config
            .sites
            .first()
            .map_or("localhost", String::as_str)
            .to_owned();
        let public = config
            .dashboard
            .public_url
            .clone()
            .unwrap_or_else(|| url.clone());
        let public = public.trim_end_matches('/').to_owned();
        let banner = move |started: spoorloos::app::Started| {
            println!("Spoorloos listening on {url}");
            println!("database: {database} · sites: {sites}");
            match started.setup_token {
                Some(token) => println!(
                    "dashboard: no user yet; create the first one (this link works once):\n  {public}/setup?token={token}"
                ),
                None => println!("dashboard: {public}/"),
            }
            println!("open {url}/demo for a tracked test page; paste this into your pages:\n");
            println!("{}", snippet::both(&site, &url));
        };
        spoorloos::app::run(listener, config, clock, shutdown, banner).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called,
/// not when it is first polled, so a signal right after start-up is not lost.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot install the SIGTERM handler")?;
    #[cfg(unix)]
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("cannot install the SIGINT handler")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received");
    })
}
