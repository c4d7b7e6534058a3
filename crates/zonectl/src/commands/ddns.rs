//! `zonectl ddns`: keep a name's A and AAAA records at the machine's current addresses.
//!
//! The addresses are given (`--ipv4`, `--ipv6`) or found: on a network interface
//! (`--from-interface`, read with `if-addrs`; loopback and link-local addresses are left
//! out) or from a service that answers with the caller's address as text (`--from-url`).
//! The records change through the one edit transaction, so nothing is sent when they
//! already hold the addresses; `--native` uses the provider's own dynamic DNS endpoint
//! instead (Domeneshop).

use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use zonectl_core::edit::{Options, Transaction};
use zonectl_core::provider::RecordFilter;
use zonectl_core::route::Route;
use zonectl_core::{Name, RData, Ttl, ddns};

use super::Session;
use super::records::{apply_edit, parse_target};
use crate::cli::Output;
use crate::config::backup_dir;

/// What `zonectl ddns` was asked.
pub struct Request {
    pub zone: String,
    pub name: String,
    pub ipv4: Option<std::net::Ipv4Addr>,
    pub ipv6: Option<std::net::Ipv6Addr>,
    pub from_interface: Option<String>,
    pub from_url: Vec<String>,
    pub native: bool,
    pub ttl: Option<String>,
}

/// The TTL of records it creates where none was there: short, as addresses that move need.
const DDNS_TTL: u32 = 300;

pub async fn run(ctx: &Session, request: Request, output: Output) -> anyhow::Result<ExitCode> {
    let (zone, name, _, ttl) = parse_target(&request.zone, &request.name, "A", request.ttl.as_deref())?;
    let addresses = addresses(&request).await?;
    if addresses.is_empty() {
        bail!("no address to set: give --ipv4 or --ipv6, --from-interface IFACE or --from-url URL");
    }
    let route = ctx.route(&zone).await?;
    if request.native {
        return native(&route, &name, &addresses).await;
    }
    let options = Options {
        default_ttl: Ttl::from_secs(DDNS_TTL),
        backup_dir: Some(backup_dir()?),
        backup_keep: Some(ctx.config.backups.keep),
        lock: true,
        ..Options::default()
    };
    let filter = RecordFilter { name: Some(name.clone()), rtype: None };
    apply_edit(Transaction::edit(route, filter, ddns::ops(&name, &addresses, ttl), options), output).await
}

/// Through each target's own endpoint, only where its records do not hold the addresses.
async fn native(route: &Route, name: &Name, addresses: &[IpAddr]) -> anyhow::Result<ExitCode> {
    let families: Vec<_> = addresses.iter().map(|a| ddns::family(*a)).collect();
    let mut want: Vec<RData> = addresses.iter().map(|a| RData::from(*a)).collect();
    want.sort();
    let shown: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    for provider in &route.targets {
        let _lock = provider.lock(&route.zone).await?;
        let filter = RecordFilter { name: Some(name.clone()), rtype: None };
        let held = provider.list_records_filtered(&route.zone, &filter).await?;
        let mut have: Vec<RData> =
            held.into_iter().map(|e| e.record.data).filter(|d| families.contains(&d.rtype())).collect();
        have.sort();
        if have == want {
            eprintln!("{name} at {}: already {}; nothing sent", provider.name(), shown.join(", "));
            continue;
        }
        provider.native_ddns(name, addresses).await?;
        eprintln!("{name} at {}: set to {}", provider.name(), shown.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

/// The addresses asked for or found, one family from one source: an explicit address wins
/// over a discovered one.
async fn addresses(request: &Request) -> anyhow::Result<Vec<IpAddr>> {
    let mut found: Vec<IpAddr> = Vec::new();
    for url in &request.from_url {
        found.push(from_url(url).await?);
    }
    if let Some(interface) = &request.from_interface {
        found.extend(from_interface(interface)?);
    }
    let v4 = request.ipv4.map(IpAddr::V4).into_iter().collect::<Vec<_>>();
    let v6 = request.ipv6.map(IpAddr::V6).into_iter().collect::<Vec<_>>();
    let pick = |explicit: Vec<IpAddr>, v4: bool| -> Vec<IpAddr> {
        if !explicit.is_empty() {
            return explicit;
        }
        found.iter().copied().filter(|a| a.is_ipv4() == v4).collect()
    };
    let mut all = pick(v4, true);
    all.extend(pick(v6, false));
    all.dedup();
    Ok(all)
}

/// The address a service says we have: its answer, as text.
async fn from_url(url: &str) -> anyhow::Result<IpAddr> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(15)).build()?;
    let response = client.get(url).send().await.with_context(|| format!("--from-url {url}"))?;
    if !response.status().is_success() {
        bail!("--from-url {url}: answered {}", response.status());
    }
    let text = response.text().await.with_context(|| format!("--from-url {url}"))?;
    let text = text.trim();
    let address: IpAddr = text.parse().with_context(|| {
        format!("--from-url {url}: the answer is not an address: '{}'", text.chars().take(60).collect::<String>())
    })?;
    if let Some(why) = ddns::unfit(address) {
        bail!("--from-url {url}: answered {address}, which is {why}: no one else reaches this machine there");
    }
    Ok(address)
}

/// The interface's addresses that others can reach it at: loopback and link-local ones
/// left out.
fn from_interface(interface: &str) -> anyhow::Result<Vec<IpAddr>> {
    let all = if_addrs::get_if_addrs().context("--from-interface: cannot read the network interfaces")?;
    if !all.iter().any(|i| i.name == interface) {
        let mut names: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
        names.sort();
        names.dedup();
        bail!("--from-interface {interface}: no such interface (there are: {})", names.join(", "));
    }
    let addresses: Vec<IpAddr> =
        all.iter().filter(|i| i.name == interface).map(|i| i.ip()).filter(|a| ddns::unfit(*a).is_none()).collect();
    if addresses.is_empty() {
        bail!(
            "--from-interface {interface}: no address on it that others can reach (loopback and link-local are left out)"
        );
    }
    Ok(addresses)
}
