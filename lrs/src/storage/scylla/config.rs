//! Settings of the ScyllaDB/Cassandra store and their URI form,
//! `scylla://[USER:PASSWORD@]HOST[:PORT][,HOST[:PORT]…]/KEYSPACE[?PARAM=VALUE&…]`.
//!
//! | parameter | default | meaning |
//! |---|---|---|
//! | `replication` | `simple:1` | used only when the keyspace is created: `simple:N` (SimpleStrategy, development) or `DC:N[,DC:N…]` (NetworkTopologyStrategy) |
//! | `consistency` | `local_quorum` | consistency level of every read and write |
//! | `serial_consistency` | `local_serial` | consistency of the Paxos phase of lightweight transactions |
//! | `request_timeout` | `5s` | client-side timeout of one CQL request (`ms` or `s`) |
//! | `write_deadline` | `30s` | how long a statement batch may take from `stored` to commit; an unfinished batch older than twice this is abandoned and its ids may be claimed again |
//! | `tls` | `false` | `true`: TLS to every node, the node's certificate verified against the system roots (or `tls_ca`) |
//! | `tls_ca` | | a PEM bundle of the CA certificates to trust instead of the system roots; implies `tls=true` |
//! | `tls_server_name` | | the DNS name (or IP) the nodes' certificates must be valid for, instead of each node's IP address |
//! | `tls_cert`, `tls_key` | | a PEM client certificate chain and its private key (mutual TLS); both or neither |
//! | `sweep_interval` | `5m` | how often a server tries to sweep what crashed batches left behind (`off`: never) |
//! | `sweep_grace` | `10m` | how old an unfinished batch must be before the sweeper rolls it back; at least twice `write_deadline` plus `request_timeout` |
//!
//! Durations are written `500ms`, `30s`, `10m` or `2h`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use scylla::statement::{Consistency, SerialConsistency};

/// How to reach a CQL cluster and how to use it.
#[derive(Clone, PartialEq, Eq)]
pub struct ScyllaConfig {
    /// `host:port` contact points.
    pub nodes: Vec<String>,
    pub keyspace: String,
    /// Replication of the keyspace when Proficio creates it.
    pub replication: Replication,
    pub consistency: Consistency,
    pub serial_consistency: SerialConsistency,
    pub request_timeout: Duration,
    pub write_deadline: Duration,
    /// Password authentication (`PasswordAuthenticator`), when the URI names a user.
    pub credentials: Option<(String, String)>,
    /// TLS to the nodes, when set (see [`TlsSettings`]).
    pub tls: Option<TlsSettings>,
    /// How often this server tries to take the sweeper lease and sweep; `None`: never.
    pub sweep_interval: Option<Duration>,
    /// Age past which an unfinished batch is rolled back by the sweeper.
    pub sweep_grace: Duration,
    /// Drop the keyspace when the store is dropped (tests; never from a URI).
    pub temporary: bool,
}

// Hand-written so that the password never reaches a log line.
impl fmt::Debug for ScyllaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScyllaConfig")
            .field("nodes", &self.nodes)
            .field("keyspace", &self.keyspace)
            .field("replication", &self.replication)
            .field("consistency", &self.consistency)
            .field("serial_consistency", &self.serial_consistency)
            .field("request_timeout", &self.request_timeout)
            .field("write_deadline", &self.write_deadline)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .field("tls", &self.tls)
            .field("sweep_interval", &self.sweep_interval)
            .field("sweep_grace", &self.sweep_grace)
            .field("temporary", &self.temporary)
            .finish()
    }
}

/// TLS to the cluster. Only file paths: the files are read when the store opens, and the key
/// never leaves the TLS layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// A PEM bundle of CA certificates to trust; `None`: the system roots.
    pub ca: Option<PathBuf>,
    /// The name every node's certificate must be valid for. `None`: the node's IP address, as
    /// the driver connects by address (the addresses of the other nodes come from the cluster).
    pub server_name: Option<String>,
    /// Client certificate chain and private key, both PEM, for mutual TLS.
    pub client: Option<ClientIdentity>,
}

/// The files of a client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The replication strategy of a keyspace Proficio creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replication {
    /// SimpleStrategy with one replication factor: development and single-DC tests only.
    Simple(u32),
    /// NetworkTopologyStrategy with a factor per data centre: production.
    NetworkTopology(BTreeMap<String, u32>),
}

impl Replication {
    /// The CQL map literal of `WITH replication = …`.
    pub fn cql(&self) -> String {
        match self {
            Replication::Simple(factor) => {
                format!("{{'class': 'SimpleStrategy', 'replication_factor': {factor}}}")
            }
            Replication::NetworkTopology(factors) => {
                let mut text = "{'class': 'NetworkTopologyStrategy'".to_owned();
                for (dc, factor) in factors {
                    text.push_str(&format!(", '{dc}': {factor}"));
                }
                text.push('}');
                text
            }
        }
    }
}

/// Why a store URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreUriError {
    #[error("unknown store {0:?}: expected `embedded` or `scylla://HOST:PORT/KEYSPACE`")]
    UnknownScheme(String),
    #[error("the store URI names no host")]
    MissingHost,
    #[error("bad host {0:?}: expected HOST or HOST:PORT")]
    BadHost(String),
    #[error("the store URI names no keyspace (scylla://HOST/KEYSPACE)")]
    MissingKeyspace,
    #[error("bad keyspace {0:?}: 1 to 48 letters, digits or underscores, starting with a letter")]
    BadKeyspace(String),
    #[error("unknown store parameter {0:?}")]
    UnknownParameter(String),
    #[error("bad value {value:?} for store parameter {name}: {reason}")]
    BadParameter {
        name: String,
        value: String,
        reason: &'static str,
    },
    #[error("the store URI is not valid: {0}")]
    Malformed(&'static str),
}

const DEFAULT_PORT: u16 = 9042;

impl ScyllaConfig {
    /// A configuration with defaults for the given nodes and keyspace.
    pub fn new(nodes: Vec<String>, keyspace: impl Into<String>) -> ScyllaConfig {
        ScyllaConfig {
            nodes,
            keyspace: keyspace.into(),
            replication: Replication::Simple(1),
            consistency: Consistency::LocalQuorum,
            serial_consistency: SerialConsistency::LocalSerial,
            request_timeout: Duration::from_secs(5),
            write_deadline: Duration::from_secs(30),
            credentials: None,
            tls: None,
            sweep_interval: Some(Duration::from_secs(300)),
            sweep_grace: Duration::from_secs(600),
            temporary: false,
        }
    }

    /// Parses `scylla://…` (see the module documentation).
    pub fn from_uri(uri: &str) -> Result<ScyllaConfig, StoreUriError> {
        let rest = uri
            .strip_prefix("scylla://")
            .ok_or_else(|| StoreUriError::UnknownScheme(uri.to_owned()))?;
        let (before_query, query) = match rest.split_once('?') {
            Some((before, query)) => (before, Some(query)),
            None => (rest, None),
        };
        let (authority, path) = before_query
            .split_once('/')
            .ok_or(StoreUriError::MissingKeyspace)?;
        let (credentials, hosts) = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => {
                let (user, password) = userinfo
                    .split_once(':')
                    .ok_or(StoreUriError::Malformed("user info must be USER:PASSWORD"))?;
                (
                    Some((percent_decode(user)?, percent_decode(password)?)),
                    hosts,
                )
            }
            None => (None, authority),
        };
        let nodes = hosts
            .split(',')
            .filter(|h| !h.is_empty())
            .map(parse_host)
            .collect::<Result<Vec<_>, _>>()?;
        if nodes.is_empty() {
            return Err(StoreUriError::MissingHost);
        }
        let keyspace = path.trim_end_matches('/');
        if keyspace.is_empty() {
            return Err(StoreUriError::MissingKeyspace);
        }
        if !valid_keyspace(keyspace) {
            return Err(StoreUriError::BadKeyspace(keyspace.to_owned()));
        }
        let mut config = ScyllaConfig::new(nodes, keyspace.to_ascii_lowercase());
        config.credentials = credentials;
        let mut tls = TlsParameters::default();
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let bad = |reason| StoreUriError::BadParameter {
                name: name.to_string(),
                value: value.to_string(),
                reason,
            };
            match &*name {
                "replication" => config.replication = parse_replication(&value).ok_or_else(|| bad("expected simple:N or DC:N[,DC:N…] with N from 1 to 99"))?,
                "consistency" => config.consistency = parse_consistency(&value).ok_or_else(|| bad("expected one of one, two, three, quorum, all, local_quorum, each_quorum, local_one"))?,
                "serial_consistency" => config.serial_consistency = match &*value.to_ascii_lowercase() {
                    "serial" => SerialConsistency::Serial,
                    "local_serial" => SerialConsistency::LocalSerial,
                    _ => return Err(bad("expected serial or local_serial")),
                },
                "request_timeout" => config.request_timeout = parse_duration(&value).ok_or_else(|| bad("expected a duration such as 500ms or 5s"))?,
                "write_deadline" => config.write_deadline = parse_duration(&value).ok_or_else(|| bad("expected a duration such as 30s"))?,
                "tls" => tls.enabled = Some(match &*value.to_ascii_lowercase() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad("expected true or false")),
                }),
                "tls_ca" => tls.ca = Some(parse_path(&value).ok_or_else(|| bad("expected the path of a PEM file"))?),
                "tls_cert" => tls.cert = Some(parse_path(&value).ok_or_else(|| bad("expected the path of a PEM file"))?),
                "tls_key" => tls.key = Some(parse_path(&value).ok_or_else(|| bad("expected the path of a PEM file"))?),
                "tls_server_name" => {
                    let valid = rustls::pki_types::ServerName::try_from(value.as_ref()).is_ok();
                    if !valid {
                        return Err(bad("expected a DNS name or an IP address"));
                    }
                    tls.server_name = Some(value.to_string());
                }
                "sweep_interval" => config.sweep_interval = match &*value {
                    "off" => None,
                    _ => Some(parse_duration(&value).ok_or_else(|| bad("expected a duration such as 5m, or off"))?),
                },
                "sweep_grace" => config.sweep_grace = parse_duration(&value).ok_or_else(|| bad("expected a duration such as 10m"))?,
                _ => return Err(StoreUriError::UnknownParameter(name.to_string())),
            }
        }
        config.tls = tls.settings()?;
        if config.write_deadline <= config.request_timeout {
            return Err(StoreUriError::BadParameter {
                name: "write_deadline".to_owned(),
                value: format!("{:?}", config.write_deadline),
                reason: "must be longer than request_timeout",
            });
        }
        // A batch may still commit until one write deadline after its `stored`, and a claim is
        // taken over after two (docs/scylla.md): rolling back earlier could undo a live batch.
        if config.sweep_grace < config.write_deadline * 2 + config.request_timeout {
            return Err(StoreUriError::BadParameter {
                name: "sweep_grace".to_owned(),
                value: format!("{:?}", config.sweep_grace),
                reason: "must be at least twice write_deadline plus request_timeout",
            });
        }
        Ok(config)
    }
}

/// The `tls*` parameters as given, before they are checked together.
#[derive(Default)]
struct TlsParameters {
    enabled: Option<bool>,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    server_name: Option<String>,
}

impl TlsParameters {
    /// Any `tls_*` file or name turns TLS on; `tls=false` with one of them is a contradiction.
    fn settings(self) -> Result<Option<TlsSettings>, StoreUriError> {
        let detail = self.ca.is_some()
            || self.cert.is_some()
            || self.key.is_some()
            || self.server_name.is_some();
        if self.enabled == Some(false) {
            if detail {
                return Err(StoreUriError::BadParameter {
                    name: "tls".to_owned(),
                    value: "false".to_owned(),
                    reason: "contradicts tls_ca, tls_cert, tls_key or tls_server_name",
                });
            }
            return Ok(None);
        }
        if self.enabled.is_none() && !detail {
            return Ok(None);
        }
        let client = match (self.cert, self.key) {
            (Some(cert), Some(key)) => Some(ClientIdentity { cert, key }),
            (None, None) => None,
            (Some(cert), None) => {
                return Err(StoreUriError::BadParameter {
                    name: "tls_cert".to_owned(),
                    value: cert.display().to_string(),
                    reason: "needs tls_key, the certificate's private key",
                });
            }
            (None, Some(key)) => {
                return Err(StoreUriError::BadParameter {
                    name: "tls_key".to_owned(),
                    value: key.display().to_string(),
                    reason: "needs tls_cert, the certificate it belongs to",
                });
            }
        };
        Ok(Some(TlsSettings {
            ca: self.ca,
            server_name: self.server_name,
            client,
        }))
    }
}

fn parse_path(value: &str) -> Option<PathBuf> {
    (!value.is_empty()).then(|| PathBuf::from(value))
}

fn parse_host(host: &str) -> Result<String, StoreUriError> {
    let bad = || StoreUriError::BadHost(host.to_owned());
    // [v6]:port, [v6], name:port, name
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or_else(bad)?),
        };
        (format!("[{inside}]"), port)
    } else {
        match host.split_once(':') {
            Some((name, port)) => (name.to_owned(), Some(port)),
            None => (host.to_owned(), None),
        }
    };
    let port: u16 = match port {
        Some(port) => port.parse().ok().filter(|&p| p != 0).ok_or_else(bad)?,
        None => DEFAULT_PORT,
    };
    let name_ok = name.len() > 2 && name.starts_with('[')
        || (!name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'));
    if !name_ok {
        return Err(bad());
    }
    Ok(format!("{name}:{port}"))
}

fn valid_keyspace(name: &str) -> bool {
    name.len() <= 48
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_replication(value: &str) -> Option<Replication> {
    let factor = |text: &str| text.parse::<u32>().ok().filter(|n| (1..=99).contains(n));
    if let Some(n) = value.strip_prefix("simple:") {
        return factor(n).map(Replication::Simple);
    }
    let mut factors = BTreeMap::new();
    for part in value.split(',') {
        let (dc, n) = part.split_once(':')?;
        let dc_ok = !dc.is_empty()
            && dc
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
        if !dc_ok || factors.insert(dc.to_owned(), factor(n)?).is_some() {
            return None;
        }
    }
    (!factors.is_empty()).then_some(Replication::NetworkTopology(factors))
}

fn parse_consistency(value: &str) -> Option<Consistency> {
    Some(match &*value.to_ascii_lowercase() {
        "one" => Consistency::One,
        "two" => Consistency::Two,
        "three" => Consistency::Three,
        "quorum" => Consistency::Quorum,
        "all" => Consistency::All,
        "local_quorum" => Consistency::LocalQuorum,
        "each_quorum" => Consistency::EachQuorum,
        "local_one" => Consistency::LocalOne,
        _ => return None,
    })
}

fn parse_duration(value: &str) -> Option<Duration> {
    let duration = if let Some(ms) = value.strip_suffix("ms") {
        Duration::from_millis(ms.parse().ok()?)
    } else if let Some(s) = value.strip_suffix('s') {
        Duration::from_secs(s.parse().ok()?)
    } else if let Some(m) = value.strip_suffix('m') {
        Duration::from_secs(m.parse::<u64>().ok()?.checked_mul(60)?)
    } else if let Some(h) = value.strip_suffix('h') {
        Duration::from_secs(h.parse::<u64>().ok()?.checked_mul(3_600)?)
    } else {
        return None;
    };
    (!duration.is_zero()).then_some(duration)
}

fn percent_decode(text: &str) -> Result<String, StoreUriError> {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .ok_or(StoreUriError::Malformed(
            "bad percent-encoding in user info",
        ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn parses_hosts_keyspace_and_defaults() {
        let config = ScyllaConfig::from_uri("scylla://10.0.0.1:9042,10.0.0.2/proficio").unwrap();
        assert_eq!(config.nodes, ["10.0.0.1:9042", "10.0.0.2:9042"]);
        assert_eq!(config.keyspace, "proficio");
        assert_eq!(config.replication, Replication::Simple(1));
        assert_eq!(config.consistency, Consistency::LocalQuorum);
        assert_eq!(config.serial_consistency, SerialConsistency::LocalSerial);
        assert!(config.credentials.is_none());
    }

    #[test]
    fn parses_parameters_and_credentials() {
        let config = ScyllaConfig::from_uri(
            "scylla://app:s%40cret+x@[::1]:19042,db-1.internal/Lrs?replication=dc1:3,dc2:2\
             &consistency=QUORUM&serial_consistency=serial&request_timeout=750ms&write_deadline=20s",
        )
        .unwrap();
        assert_eq!(config.nodes, ["[::1]:19042", "db-1.internal:9042"]);
        assert_eq!(config.keyspace, "lrs");
        assert_eq!(
            config.replication.cql(),
            "{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}"
        );
        assert_eq!(config.consistency, Consistency::Quorum);
        assert_eq!(config.serial_consistency, SerialConsistency::Serial);
        assert_eq!(config.request_timeout, Duration::from_millis(750));
        assert_eq!(config.write_deadline, Duration::from_secs(20));
        assert_eq!(
            config.credentials,
            Some(("app".to_owned(), "s@cret+x".to_owned()))
        );
        assert!(!format!("{config:?}").contains("s@cret"));
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        let check = |uri: &str, expected: StoreUriError| {
            assert_eq!(ScyllaConfig::from_uri(uri), Err(expected), "{uri}");
        };
        check(
            "postgres://x/y",
            StoreUriError::UnknownScheme("postgres://x/y".into()),
        );
        check("scylla://host", StoreUriError::MissingKeyspace);
        check("scylla://host/", StoreUriError::MissingKeyspace);
        check("scylla:///ks", StoreUriError::MissingHost);
        check(
            "scylla://host:0/ks",
            StoreUriError::BadHost("host:0".into()),
        );
        check(
            "scylla://host:x/ks",
            StoreUriError::BadHost("host:x".into()),
        );
        check(
            "scylla://host/1ks",
            StoreUriError::BadKeyspace("1ks".into()),
        );
        check(
            "scylla://host/ks?colour=red",
            StoreUriError::UnknownParameter("colour".into()),
        );
        assert!(matches!(
            ScyllaConfig::from_uri("scylla://host/ks?replication=simple:0"),
            Err(StoreUriError::BadParameter { .. })
        ));
        assert!(matches!(
            ScyllaConfig::from_uri("scylla://host/ks?consistency=most"),
            Err(StoreUriError::BadParameter { .. })
        ));
        assert!(matches!(
            ScyllaConfig::from_uri("scylla://host/ks?request_timeout=10s&write_deadline=5s"),
            Err(StoreUriError::BadParameter { .. })
        ));
        let bad = |uri: &str, parameter: &str| match ScyllaConfig::from_uri(uri) {
            Err(StoreUriError::BadParameter { name, .. }) => assert_eq!(name, parameter, "{uri}"),
            other => panic!("{uri}: expected a bad {parameter}, got {other:?}"),
        };
        bad("scylla://host/ks?tls=yes", "tls");
        bad("scylla://host/ks?tls=false&tls_ca=/ca.pem", "tls");
        bad("scylla://host/ks?tls_ca=", "tls_ca");
        bad("scylla://host/ks?tls_cert=/c.pem", "tls_cert");
        bad("scylla://host/ks?tls=true&tls_key=/k.pem", "tls_key");
        bad(
            "scylla://host/ks?tls_server_name=not%20a%20name",
            "tls_server_name",
        );
        bad("scylla://host/ks?sweep_interval=soon", "sweep_interval");
        bad("scylla://host/ks?sweep_grace=1m", "sweep_grace");
        bad("scylla://host/ks?write_deadline=5m", "sweep_grace");
        check(
            "scylla://host/ks?ssl=true",
            StoreUriError::UnknownParameter("ssl".into()),
        );
    }

    #[test]
    fn parses_tls_and_sweeper_settings() {
        let plain = ScyllaConfig::from_uri("scylla://host/ks?tls=false").unwrap();
        assert_eq!(plain.tls, None);
        assert_eq!(plain.sweep_interval, Some(Duration::from_secs(300)));
        assert_eq!(plain.sweep_grace, Duration::from_secs(600));
        let system_roots = ScyllaConfig::from_uri("scylla://host/ks?tls=true").unwrap();
        assert_eq!(system_roots.tls, Some(TlsSettings::default()));
        let full = ScyllaConfig::from_uri(
            "scylla://host/ks?tls_ca=%2Fetc%2Fproficio%2Fca.pem&tls_server_name=db.internal\
             &tls_cert=/etc/proficio/client.pem&tls_key=/etc/proficio/client-key.pem\
             &sweep_interval=off&sweep_grace=2h",
        )
        .unwrap();
        assert_eq!(
            full.tls,
            Some(TlsSettings {
                ca: Some("/etc/proficio/ca.pem".into()),
                server_name: Some("db.internal".to_owned()),
                client: Some(ClientIdentity {
                    cert: "/etc/proficio/client.pem".into(),
                    key: "/etc/proficio/client-key.pem".into(),
                }),
            })
        );
        assert_eq!(full.sweep_interval, None);
        assert_eq!(full.sweep_grace, Duration::from_secs(7_200));
        let by_ip = ScyllaConfig::from_uri("scylla://host/ks?tls_server_name=10.0.0.7").unwrap();
        assert_eq!(
            by_ip.tls.and_then(|tls| tls.server_name).as_deref(),
            Some("10.0.0.7")
        );
    }
}
