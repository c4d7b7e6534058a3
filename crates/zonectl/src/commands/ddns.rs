//! `zonectl ddns`: keep a name's A and AAAA records at the machine's current addresses.
//!
//! The addresses are given (`--ipv4`, `--ipv6`) or found: on a network interface
//! (`--from-interface`, through iproute2's `ip -j addr`) or from a service that answers
//! with the caller's address as text (`--from-url`). The records change through the same
//! plan and apply as every edit, so nothing is sent when they already hold the addresses;
//! `--native` uses the provider's own dynamic DNS endpoint instead (Domeneshop).

use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use zonectl_core::provider::RecordFilter;
use zonectl_core::{Name, RData, Record, RecordType, Ttl};

use super::Session;
use super::records::{edit, parse_target};

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

pub async fn run(ctx: &Session, request: Request) -> anyhow::Result<ExitCode> {
    let (zone, name, _, ttl) = parse_target(&request.zone, &request.name, "A", request.ttl.as_deref())?;
    let addresses = addresses(&request).await?;
    if addresses.is_empty() {
        bail!("no address to set: give --ipv4 or --ipv6, --from-interface IFACE or --from-url URL");
    }
    let families: Vec<RecordType> =
        [RecordType::A, RecordType::Aaaa].into_iter().filter(|t| addresses.iter().any(|a| family(a) == *t)).collect();
    if request.native {
        return native(ctx, &zone, &name, &addresses, &families).await;
    }
    let filter = RecordFilter { name: Some(name.clone()), rtype: None };
    edit(ctx, &zone, filter, false, move |records, default_ttl| {
        for &rtype in &families {
            let kept_ttl = records.iter().find(|r| r.name == name && r.rtype() == rtype).map(|r| r.ttl);
            let ttl = ttl.or(kept_ttl).unwrap_or_else(|| Ttl::from_secs(DDNS_TTL).unwrap_or(default_ttl));
            records.retain(|r| !(r.name == name && r.rtype() == rtype));
            records.extend(
                addresses.iter().filter(|a| family(a) == rtype).map(|a| Record::new(name.clone(), ttl, data(a))),
            );
        }
    })
    .await
}

/// Through the provider's own endpoint, only when the records do not hold the addresses.
async fn native(
    ctx: &Session,
    zone: &Name,
    name: &Name,
    addresses: &[IpAddr],
    families: &[RecordType],
) -> anyhow::Result<ExitCode> {
    let provider = ctx.provider()?;
    let _lock = provider.lock(zone).await?;
    let held = provider.list_records_filtered(zone, &RecordFilter { name: Some(name.clone()), rtype: None }).await?;
    let mut have: Vec<RData> =
        held.into_iter().map(|e| e.record.data).filter(|d| families.contains(&d.rtype())).collect();
    let mut want: Vec<RData> = addresses.iter().map(data).collect();
    have.sort();
    want.sort();
    let shown: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    if have == want {
        eprintln!("{name} at {}: already {}; nothing sent", provider.name(), shown.join(", "));
        return Ok(ExitCode::SUCCESS);
    }
    provider.native_ddns(name, addresses).await?;
    eprintln!("{name} at {}: set to {}", provider.name(), shown.join(", "));
    Ok(ExitCode::SUCCESS)
}

fn family(address: &IpAddr) -> RecordType {
    if address.is_ipv4() { RecordType::A } else { RecordType::Aaaa }
}

fn data(address: &IpAddr) -> RData {
    match address {
        IpAddr::V4(a) => RData::A(*a),
        IpAddr::V6(a) => RData::Aaaa(*a),
    }
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
    text.parse().with_context(|| {
        format!("--from-url {url}: the answer is not an address: '{}'", text.chars().take(60).collect::<String>())
    })
}

/// The interface's addresses, link-local ones left out, as `ip -j addr show dev IFACE`
/// lists them.
fn from_interface(interface: &str) -> anyhow::Result<Vec<IpAddr>> {
    let output = std::process::Command::new("ip")
        .args(["-j", "addr", "show", "dev", interface])
        .output()
        .context("--from-interface needs iproute2's `ip` command")?;
    if !output.status.success() {
        bail!("--from-interface {interface}: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let links: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("--from-interface: `ip -j` did not answer JSON")?;
    let mut addresses = Vec::new();
    for info in links.as_array().into_iter().flatten().flat_map(|l| l["addr_info"].as_array().into_iter().flatten()) {
        let Some(address) = info["local"].as_str().and_then(|a| a.parse::<IpAddr>().ok()) else { continue };
        let link_local = match address {
            IpAddr::V4(a) => a.is_link_local(),
            IpAddr::V6(a) => a.is_unicast_link_local(),
        };
        if !link_local {
            addresses.push(address);
        }
    }
    if addresses.is_empty() {
        bail!("--from-interface {interface}: no address on it");
    }
    Ok(addresses)
}
