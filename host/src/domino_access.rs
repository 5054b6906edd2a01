//! Which Domino servers the end users of `nzsync serve` may reach, and the HTTP client that
//! reaches them.
//!
//! A user types the Domino server's name at Connect; the server then talks to it for the proxy,
//! the readiness checks and scheduled syncs. Without a rule that makes the server a way into
//! the operator's own network (SSRF). The rule:
//!
//! - **The operator's list.** `[domino] allowed_servers` names exact origins
//!   (`https://mail.example.com`, `http://10.1.2.3:8080`) and `*.domain` patterns
//!   (`*.example.com`, `https://*.example.com:8443`). A missing scheme means http or https; a
//!   missing port means the scheme's default port. With no list, any http(s) server is allowed
//!   — at a public address.
//! - **Public addresses only**, unless the list names the server exactly: a server listed by its
//!   exact origin may be at a loopback, private, CGNAT or other special-purpose unicast address;
//!   a link-local address (169.254.0.0/16, fe80::/10: cloud metadata lives there) only when the
//!   entry is that very address. Unspecified, multicast, broadcast and reserved addresses are
//!   never servers. IPv4-mapped, 6to4 and NAT64 forms are judged by the IPv4 address inside,
//!   and an IPv4-mapped form is never public.
//! - **At every connection.** The client's resolver hook ([`DominoAccess::client`]) resolves a
//!   name and hands the connection only the addresses that pass; a name that passed at Connect
//!   and later resolves elsewhere (DNS rebinding) gets no connection. Addresses written in the
//!   URL are checked before each request ([`DominoAccess::admit_url`]).
//!
//! The resolver is injectable ([`Resolver`]) so tests can play a rebinding name server on
//! loopback; [`DominoNetwork::local_address`] can pin the source address of every connection
//! (tests pin it to 127.0.0.1, so nothing can leave the machine even by mistake).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use url::{Host, Url};

/// A future a [`Resolver`] returns.
pub type Resolving = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;

/// Turns a host name into addresses. The default is the system's ([`SystemResolver`]).
pub trait Resolver: Send + Sync {
    /// The addresses of `host` (a DNS name, never an IP literal).
    fn resolve(&self, host: &str) -> Resolving;
}

/// The operating system's resolver (`getaddrinfo`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve(&self, host: &str) -> Resolving {
        let host = host.to_owned();
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .map(|a| a.ip())
                .collect())
        })
    }
}

/// Why a Domino server may not be used. The user sees one plain message for all of them (see
/// `server::connect`); the variants are for logs and tests.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not an http(s) URL with a host.
    #[error("not an http(s) server URL")]
    NotHttp,
    /// The origin is not in `allowed_servers`.
    #[error("{0} is not in the allowed Domino servers")]
    NotListed(String),
    /// The name could not be resolved.
    #[error("{host} could not be resolved: {message}")]
    Unresolved {
        /// The name.
        host: String,
        /// The resolver's words.
        message: String,
    },
    /// The host is, or resolves to, an address the rule refuses.
    #[error("{host} is at {address}, a {kind} address, which Domino servers may not use here")]
    Address {
        /// The name or address in the URL.
        host: String,
        /// The refused address.
        address: IpAddr,
        /// What kind of address it is.
        kind: &'static str,
    },
}

/// How far an address may be reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Reach {
    /// A public unicast address: any allowed server.
    Public,
    /// Loopback, private, CGNAT, documentation, IPv4-mapped…: only a server the list names
    /// exactly.
    Named,
    /// Link-local (cloud metadata): only an entry that is this very address.
    Literal,
    /// Not a server's address at all.
    Never,
}

/// What kind of address `ip` is, and how far it may be reached.
fn classify(ip: IpAddr) -> (Reach, &'static str) {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> (Reach, &'static str) {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        (0, _, _) => (Reach::Never, "unspecified (\"this network\")"),
        (127, _, _) => (Reach::Named, "loopback"),
        (10, _, _) | (192, 168, _) => (Reach::Named, "private"),
        (172, 16..=31, _) => (Reach::Named, "private"),
        (100, 64..=127, _) => (Reach::Named, "shared (CGNAT)"),
        (169, 254, 169 | 170) => (Reach::Literal, "link-local (cloud metadata)"),
        (169, 254, _) => (Reach::Literal, "link-local"),
        (192, 0, 0) => (Reach::Named, "IETF protocol assignment"),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => (Reach::Named, "documentation"),
        (192, 88, 99) => (Reach::Named, "6to4 relay"),
        (198, 18 | 19, _) => (Reach::Named, "benchmarking"),
        (224..=239, _, _) => (Reach::Never, "multicast"),
        (240..=255, _, _) => (Reach::Never, "reserved or broadcast"),
        _ => (Reach::Public, "public"),
    }
}

fn classify_v6(ip: Ipv6Addr) -> (Reach, &'static str) {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if ip.is_unspecified() {
        return (Reach::Never, "unspecified");
    }
    if ip.is_loopback() {
        return (Reach::Named, "loopback");
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        // Never public: a name that resolves to one is hiding an IPv4 address.
        let (reach, _) = classify_v4(v4);
        return (reach.max(Reach::Named), "IPv4-mapped");
    }
    match s[0] {
        // IPv4-compatible (deprecated) and other forms in ::/8.
        0x0000 => (Reach::Never, "reserved (IPv4-compatible)"),
        0x0064 if s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] => {
            // NAT64 (64:ff9b::/96): the IPv4 address inside decides.
            let (reach, kind) = classify_v4(embedded(s[6], s[7]));
            (
                reach,
                if reach == Reach::Public {
                    "public"
                } else {
                    kind
                },
            )
        }
        0x0064 if s[1] == 0xff9b => (Reach::Named, "local NAT64"),
        0x0100 if s[1..4] == [0, 0, 0] => (Reach::Never, "discard-only"),
        0x2001 if s[1] == 0x0db8 => (Reach::Named, "documentation"),
        0x2001 if s[1] < 0x0200 => (Reach::Named, "IETF protocol assignment (Teredo, ORCHID…)"),
        0x2002 => {
            // 6to4: the IPv4 address inside decides.
            let (reach, kind) = classify_v4(embedded(s[1], s[2]));
            (
                reach,
                if reach == Reach::Public {
                    "public"
                } else {
                    kind
                },
            )
        }
        0x3fff if s[1] < 0x1000 => (Reach::Named, "documentation"),
        x if x & 0xfe00 == 0xfc00 => (Reach::Named, "unique local (private)"),
        x if x & 0xffc0 == 0xfe80 => (Reach::Literal, "link-local"),
        x if x & 0xffc0 == 0xfec0 => (Reach::Named, "site-local (deprecated)"),
        x if x & 0xff00 == 0xff00 => (Reach::Never, "multicast"),
        x if x & 0xe000 == 0x2000 => (Reach::Public, "public"),
        _ => (Reach::Never, "reserved"),
    }
}

/// How an entry of the list names hosts.
#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    /// Exactly this DNS name (lowercase, no trailing dot).
    Name(String),
    /// Exactly this address.
    Ip(IpAddr),
    /// Any name under this domain (not the domain itself).
    Under(String),
}

/// One entry of `allowed_servers`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    scheme: Option<&'static str>,
    host: HostPattern,
    port: Option<u16>,
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" { 443 } else { 80 }
}

/// A name without its one trailing dot (`localhost.` is `localhost`).
fn bare(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

impl Entry {
    fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            Err(format!(
                "{text:?} is not a server origin or *.domain pattern ({why}); write e.g. \
                 \"https://mail.example.com\", \"http://10.1.2.3:8080\" or \"*.example.com\""
            ))
        };
        let trimmed = text.trim();
        let (scheme, rest) = match trimmed.split_once("://") {
            Some((s, r)) => match s.to_ascii_lowercase().as_str() {
                "http" => (Some("http"), r),
                "https" => (Some("https"), r),
                _ => return bad("only http and https"),
            },
            None => (None, trimmed),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', '\\', ' ']) {
            return bad("an origin has no path, query, user name or spaces");
        }
        let (host, port) = if rest.starts_with('[') {
            let Some(end) = rest.find(']') else {
                return bad("unclosed [");
            };
            match &rest[end + 1..] {
                "" => (&rest[..=end], None),
                p => match p.strip_prefix(':') {
                    Some(p) => (&rest[..=end], Some(p)),
                    None => return bad("text after ]"),
                },
            }
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
                _ => return bad("the port must be a number from 1 to 65535"),
            },
        };
        let host = if let Some(domain) = host.strip_prefix("*.") {
            match Host::parse(domain) {
                Ok(Host::Domain(d)) if !d.is_empty() && !d.contains('*') => {
                    HostPattern::Under(bare(&d).to_owned())
                }
                _ => return bad("*. must be followed by a domain name"),
            }
        } else {
            match Host::parse(host) {
                Ok(Host::Domain(d)) if !d.contains('*') => HostPattern::Name(bare(&d).to_owned()),
                Ok(Host::Ipv4(ip)) => HostPattern::Ip(IpAddr::V4(ip)),
                Ok(Host::Ipv6(ip)) => HostPattern::Ip(IpAddr::V6(ip)),
                _ => return bad("not a host name or address"),
            }
        };
        Ok(Self { scheme, host, port })
    }

    fn matches(&self, scheme: &str, host: &UrlHost, port: u16) -> bool {
        self.scheme.is_none_or(|s| s == scheme)
            && self.port.unwrap_or_else(|| default_port(scheme)) == port
            && match (&self.host, host) {
                (HostPattern::Name(n), UrlHost::Name(h)) => n == h,
                (HostPattern::Under(d), UrlHost::Name(h)) => h
                    .strip_suffix(d.as_str())
                    .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
                (HostPattern::Ip(a), UrlHost::Ip(b)) => a == b,
                _ => false,
            }
    }
}

/// A URL's host, as the list compares it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum UrlHost {
    Name(String),
    Ip(IpAddr),
}

/// The parts of an http(s) URL the rule looks at: (scheme, host, port).
fn parts(url: &Url) -> Result<(&str, UrlHost, u16), Refusal> {
    let scheme = url.scheme();
    if !matches!(scheme, "http" | "https") {
        return Err(Refusal::NotHttp);
    }
    let host = match url.host() {
        Some(Host::Domain(d)) => UrlHost::Name(bare(&d.to_ascii_lowercase()).to_owned()),
        Some(Host::Ipv4(ip)) => UrlHost::Ip(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => UrlHost::Ip(IpAddr::V6(ip)),
        None => return Err(Refusal::NotHttp),
    };
    let port = url.port_or_known_default().ok_or(Refusal::NotHttp)?;
    Ok((scheme, host, port))
}

/// `[domino] allowed_servers`, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedServers {
    /// `None`: no list (any origin, public addresses only).
    entries: Option<Vec<Entry>>,
}

impl AllowedServers {
    /// No list: any http(s) server at a public address.
    #[must_use]
    pub fn public_only() -> Self {
        Self { entries: None }
    }

    /// The operator's list.
    ///
    /// # Errors
    /// A message naming the first entry that is not an origin or a `*.domain` pattern.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let entries = entries
            .iter()
            .map(|e| Entry::parse(e.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            entries: Some(entries),
        })
    }

    /// Whether the URL's origin is allowed (before looking at addresses).
    fn origin_allowed(&self, scheme: &str, host: &UrlHost, port: u16) -> bool {
        self.entries
            .as_ref()
            .is_none_or(|list| list.iter().any(|e| e.matches(scheme, host, port)))
    }

    /// The farthest an address of `host` may be: `Named` when the list names `host` exactly
    /// (by name, or as this very address: then `Literal`), else `Public`.
    fn reach_of(&self, host: &UrlHost) -> Reach {
        let Some(list) = &self.entries else {
            return Reach::Public;
        };
        match host {
            UrlHost::Ip(ip) if list.iter().any(|e| e.host == HostPattern::Ip(*ip)) => {
                Reach::Literal
            }
            UrlHost::Name(n) if list.iter().any(|e| e.host == HostPattern::Name(n.clone())) => {
                Reach::Named
            }
            _ => Reach::Public,
        }
    }

    /// A name the list names exactly (the resolver hook sees names only).
    fn reach_of_name(&self, name: &str) -> Reach {
        self.reach_of(&UrlHost::Name(bare(&name.to_ascii_lowercase()).to_owned()))
    }
}

/// Checks one address against the reach a host is allowed.
fn check_address(host: &str, ip: IpAddr, allowed: Reach) -> Result<(), Refusal> {
    let (reach, kind) = classify(ip);
    if reach == Reach::Never || reach > allowed {
        return Err(Refusal::Address {
            host: host.to_owned(),
            address: ip,
            kind,
        });
    }
    Ok(())
}

/// `localhost` and `*.localhost` are loopback by definition (RFC 6761), whatever a resolver
/// says.
fn loopback_name(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

/// How the Domino client connects: the resolver and, optionally, a fixed source address.
#[derive(Clone, Default)]
pub struct DominoNetwork {
    /// The resolver (the system's when `None`).
    pub resolver: Option<Arc<dyn Resolver>>,
    /// The source address of every connection (the system picks when `None`).
    pub local_address: Option<IpAddr>,
}

impl std::fmt::Debug for DominoNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DominoNetwork")
            .field("custom_resolver", &self.resolver.is_some())
            .field("local_address", &self.local_address)
            .finish()
    }
}

struct Policy {
    allowed: AllowedServers,
    resolver: Arc<dyn Resolver>,
}

impl Policy {
    /// The addresses of `name` that may be connected to (the resolver hook).
    async fn addresses(&self, name: &str) -> Result<Vec<IpAddr>, Refusal> {
        let host = bare(&name.to_ascii_lowercase()).to_owned();
        let reach = self.allowed.reach_of_name(&host);
        if loopback_name(&host) && reach < Reach::Named {
            return Err(Refusal::Address {
                host,
                address: IpAddr::V4(Ipv4Addr::LOCALHOST),
                kind: "loopback",
            });
        }
        let resolved = self
            .resolver
            .resolve(&host)
            .await
            .map_err(|e| Refusal::Unresolved {
                host: host.clone(),
                message: e.to_string(),
            })?;
        let mut first_refusal = None;
        let passing: Vec<IpAddr> = resolved
            .into_iter()
            .filter(|ip| match check_address(&host, *ip, reach) {
                Ok(()) => true,
                Err(e) => {
                    first_refusal.get_or_insert(e);
                    false
                }
            })
            .collect();
        match (passing.is_empty(), first_refusal) {
            (false, _) => Ok(passing),
            (true, Some(refusal)) => Err(refusal),
            (true, None) => Err(Refusal::Unresolved {
                host,
                message: "no addresses".into(),
            }),
        }
    }
}

/// The reqwest resolver hook: every name the Domino client connects to passes the rule, at the
/// moment it connects. It counts the names it gave no address, so that
/// [`DominoAccess::connection_attempts`] leaves them out.
struct Hook(Arc<Policy>, Arc<AtomicU64>);

impl reqwest::dns::Resolve for Hook {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        let refused = self.1.clone();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            match policy.addresses(&name).await {
                Ok(ips) => {
                    tracing::debug!(host = %name, addresses = ?ips, "domino: resolved");
                    Ok(Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)))
                        as reqwest::dns::Addrs)
                }
                Err(e) => {
                    refused.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(reason = %e, "domino: connection refused by the server rule");
                    Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
                }
            }
        })
    }
}

/// Counts the connections the client sets out to open (a tower layer around reqwest's
/// connector, which resolves, then connects).
#[derive(Clone)]
struct CountConnections(Arc<AtomicU64>);

impl<S> tower_layer::Layer<S> for CountConnections {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            count: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct Counted<S> {
    inner: S,
    count: Arc<AtomicU64>,
}

impl<S: tower_service::Service<R>, R> tower_service::Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.inner.call(req)
    }
}

/// The Domino servers users may reach, and the client that reaches only them.
pub struct DominoAccess {
    policy: Arc<Policy>,
    client: reqwest::Client,
    /// Connections set out to open (resolution included).
    connects: Arc<AtomicU64>,
    /// Of those, the ones the resolver hook gave no address (no connection was tried).
    refused: Arc<AtomicU64>,
}

impl std::fmt::Debug for DominoAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DominoAccess")
            .field("allowed", &self.policy.allowed)
            .finish_non_exhaustive()
    }
}

impl DominoAccess {
    /// Access under `allowed`, connecting through `network`.
    ///
    /// # Errors
    /// When the HTTP client cannot start.
    pub fn new(allowed: AllowedServers, network: DominoNetwork) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(Policy {
            allowed,
            resolver: network.resolver.unwrap_or_else(|| Arc::new(SystemResolver)),
        });
        let connects = Arc::new(AtomicU64::new(0));
        let refused = Arc::new(AtomicU64::new(0));
        let client = crate::upstream::client_builder()
            .dns_resolver(Arc::new(Hook(policy.clone(), refused.clone())))
            .local_address(network.local_address)
            .connector_layer(CountConnections(connects.clone()))
            .build()?;
        Ok(Self {
            policy,
            client,
            connects,
            refused,
        })
    }

    /// The client for Domino requests: it connects only to addresses that pass the rule.
    #[must_use]
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// How many connections the client has tried to open so far, to addresses that passed
    /// the rule (whether or not the server answered). A refused server adds nothing.
    #[must_use]
    pub fn connection_attempts(&self) -> u64 {
        let refused = self.refused.load(Ordering::Relaxed);
        self.connects
            .load(Ordering::Relaxed)
            .saturating_sub(refused)
    }

    /// Whether a request to `url` may be sent: its origin is allowed, and an address written
    /// in it passes the rule (names are checked when the client connects).
    ///
    /// # Errors
    /// [`Refusal`] saying why not.
    pub fn admit_url(&self, url: &Url) -> Result<(), Refusal> {
        let (scheme, host, port) = parts(url)?;
        let allowed = &self.policy.allowed;
        if !allowed.origin_allowed(scheme, &host, port) {
            return Err(Refusal::NotListed(url.origin().ascii_serialization()));
        }
        let reach = allowed.reach_of(&host);
        match &host {
            UrlHost::Ip(ip) => check_address(&ip.to_string(), *ip, reach),
            UrlHost::Name(n) if loopback_name(n) && reach < Reach::Named => Err(Refusal::Address {
                host: n.clone(),
                address: IpAddr::V4(Ipv4Addr::LOCALHOST),
                kind: "loopback",
            }),
            UrlHost::Name(_) => Ok(()),
        }
    }

    /// The check Connect makes before it sends anything: [`DominoAccess::admit_url`], and a
    /// name is resolved now and refused if *any* of its addresses fails the rule.
    ///
    /// # Errors
    /// [`Refusal`] saying why not.
    pub async fn admit_server(&self, url: &Url) -> Result<(), Refusal> {
        self.admit_url(url)?;
        let (_, host, _) = parts(url)?;
        let UrlHost::Name(name) = host else {
            return Ok(());
        };
        let reach = self.policy.allowed.reach_of(&UrlHost::Name(name.clone()));
        let resolved =
            self.policy
                .resolver
                .resolve(&name)
                .await
                .map_err(|e| Refusal::Unresolved {
                    host: name.clone(),
                    message: e.to_string(),
                })?;
        if resolved.is_empty() {
            return Err(Refusal::Unresolved {
                host: name,
                message: "no addresses".into(),
            });
        }
        resolved
            .into_iter()
            .try_for_each(|ip| check_address(&name, ip, reach))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse().unwrap())
    }
    fn v6(s: &str) -> IpAddr {
        IpAddr::V6(s.parse().unwrap())
    }

    #[test]
    fn addresses_are_classified_by_what_they_reach() {
        for (ip, reach) in [
            (v4("8.8.8.8"), Reach::Public),
            (v4("93.184.216.34"), Reach::Public),
            (v4("127.0.0.1"), Reach::Named),
            (v4("127.255.0.9"), Reach::Named),
            (v4("10.1.2.3"), Reach::Named),
            (v4("172.16.0.1"), Reach::Named),
            (v4("172.31.255.255"), Reach::Named),
            (v4("172.32.0.1"), Reach::Public),
            (v4("192.168.1.1"), Reach::Named),
            (v4("100.64.0.1"), Reach::Named),
            (v4("100.100.100.200"), Reach::Named),
            (v4("100.128.0.1"), Reach::Public),
            (v4("169.254.169.254"), Reach::Literal),
            (v4("169.254.1.1"), Reach::Literal),
            (v4("192.0.2.1"), Reach::Named),
            (v4("198.18.0.1"), Reach::Named),
            (v4("0.0.0.0"), Reach::Never),
            (v4("224.0.0.1"), Reach::Never),
            (v4("255.255.255.255"), Reach::Never),
            (v6("2606:4700::1111"), Reach::Public),
            (v6("::1"), Reach::Named),
            (v6("::"), Reach::Never),
            (v6("::ffff:127.0.0.1"), Reach::Named),
            (v6("::ffff:8.8.8.8"), Reach::Named),
            (v6("::ffff:169.254.169.254"), Reach::Literal),
            (v6("::127.0.0.1"), Reach::Never),
            (v6("64:ff9b::8.8.8.8"), Reach::Public),
            (v6("64:ff9b::a9fe:a9fe"), Reach::Literal),
            (v6("64:ff9b::7f00:1"), Reach::Named),
            (v6("2002:a9fe:a9fe::1"), Reach::Literal),
            (v6("2002:0808:0808::1"), Reach::Public),
            (v6("2002:0a00:0001::1"), Reach::Named),
            (v6("fc00::1"), Reach::Named),
            (v6("fd00:ec2::254"), Reach::Named),
            (v6("fe80::1"), Reach::Literal),
            (v6("ff02::1"), Reach::Never),
            (v6("2001:db8::1"), Reach::Named),
            (v6("2001::1"), Reach::Named),
        ] {
            assert_eq!(classify(ip).0, reach, "{ip}");
        }
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn access(list: Option<&[&str]>) -> DominoAccess {
        let allowed = match list {
            Some(l) => AllowedServers::parse(l).unwrap(),
            None => AllowedServers::public_only(),
        };
        DominoAccess::new(allowed, DominoNetwork::default()).unwrap()
    }

    #[test]
    fn entries_are_origins_or_domain_patterns() {
        for bad in [
            "ftp://x.example.com",
            "https://x.example.com/path",
            "https://user@x.example.com",
            "https://x.example.com?q",
            "*",
            "*.",
            "https://*",
            "x.example.com:0",
            "x.example.com:99999",
            "::1",
            "*.10.0.0.1",
            "",
        ] {
            assert!(AllowedServers::parse(&[bad]).is_err(), "{bad:?}");
        }
        let a = access(Some(&[
            "https://mail.example.com",
            "http://127.0.0.1:18081",
            "*.corp.example.org",
            "https://*.dc.example.net:8443",
            "[::1]:8080",
        ]));
        for ok in [
            "https://mail.example.com",
            "https://MAIL.example.com./",
            "http://127.0.0.1:18081",
            "http://2130706433:18081",
            "https://a.corp.example.org",
            "http://a.b.corp.example.org",
            "https://x.dc.example.net:8443",
            "http://[::1]:8080",
            "https://[::1]:8080",
        ] {
            assert_eq!(a.admit_url(&url(ok)), Ok(()), "{ok}");
        }
        for refused in [
            "http://mail.example.com",
            "https://mail.example.com:8443",
            "http://127.0.0.1:18082",
            "https://corp.example.org",
            "https://evilcorp.example.org",
            "https://a.corp.example.org:8443",
            "http://x.dc.example.net:8443",
            "https://x.dc.example.net",
            "http://[::ffff:127.0.0.1]:18081",
        ] {
            assert!(a.admit_url(&url(refused)).is_err(), "{refused}");
        }
    }

    #[test]
    fn without_a_list_only_public_addresses_pass() {
        let a = access(None);
        assert_eq!(a.admit_url(&url("https://8.8.8.8")), Ok(()));
        assert_eq!(a.admit_url(&url("https://mail.example.com:8443")), Ok(()));
        for refused in [
            "http://127.1",
            "http://0x7f.0.0.1",
            "http://0177.0.0.1",
            "http://2130706433",
            "http://127.0.0.1.",
            "http://[::ffff:127.0.0.1]",
            "http://[::1]",
            "http://0.0.0.0",
            "http://localhost",
            "http://LocalHost.",
            "http://api.localhost",
            "http://10.0.0.1",
            "http://169.254.169.254",
            "http://[fd00:ec2::254]",
            "http://[64:ff9b::a9fe:a9fe]",
        ] {
            assert!(
                matches!(a.admit_url(&url(refused)), Err(Refusal::Address { .. })),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_server_named_exactly_may_be_private_but_link_local_only_as_itself() {
        let a = access(Some(&[
            "http://10.1.2.3:8080",
            "http://169.254.10.10",
            "*.example.com",
            "https://intranet.example.com",
        ]));
        assert_eq!(a.admit_url(&url("http://10.1.2.3:8080")), Ok(()));
        assert_eq!(a.admit_url(&url("http://169.254.10.10")), Ok(()));
        let allowed = &a.policy.allowed;
        assert_eq!(allowed.reach_of_name("intranet.example.com."), Reach::Named);
        assert_eq!(allowed.reach_of_name("other.example.com"), Reach::Public);
        assert!(check_address("intranet", v4("10.9.9.9"), Reach::Named).is_ok());
        assert!(check_address("intranet", v4("169.254.169.254"), Reach::Named).is_err());
        assert!(check_address("intranet", v4("224.0.0.1"), Reach::Literal).is_err());
        assert!(check_address("other", v4("10.9.9.9"), Reach::Public).is_err());
    }
}
