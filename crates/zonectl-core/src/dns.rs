//! Asking name servers directly: one question to one server, as `dig +norec @server` asks.
//!
//! The ACME hooks wait until every authoritative server of a zone answers with the
//! challenge, so they must ask each server itself (recursion off), not a resolver that may
//! answer from its cache. The messages are hickory-proto's; the transport is UDP, again
//! over TCP when the answer comes back truncated.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name as DnsName, RData as DnsRData, RecordType as DnsType};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::Name;

/// Why a server gave no usable answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    /// No answer within the time allowed.
    #[error("no answer within {}", crate::duration::show(*.0))]
    TimedOut(Duration),
    /// The socket failed (refused, unreachable).
    #[error("{0}")]
    Io(String),
    /// The answer was not a DNS message for our question.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The server answered with an error code other than NXDOMAIN.
    #[error("answered {0}")]
    Rcode(String),
}

/// What a server answered about a name and type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// Whether the server said it is authoritative (AA).
    pub authoritative: bool,
    /// Whether the name does not exist (NXDOMAIN).
    pub nxdomain: bool,
    /// TXT answers, each the concatenation of its character-strings.
    pub txt: Vec<Vec<u8>>,
    /// CNAME answers: the name is an alias of these.
    pub cnames: Vec<Name>,
    /// NS answers (or NS in the authority section of a referral).
    pub nameservers: Vec<Name>,
    /// A and AAAA answers.
    pub addresses: Vec<std::net::IpAddr>,
}

/// Asks `server` about `name` and `rtype`, with recursion desired or not.
pub async fn query(
    server: SocketAddr,
    name: &Name,
    rtype: crate::RecordType,
    recursion: bool,
    timeout: Duration,
) -> Result<Answer, QueryError> {
    let qname = DnsName::from_ascii(name.as_str()).map_err(|e| QueryError::Malformed(e.to_string()))?;
    let qtype = DnsType::from(rtype.code().ok_or_else(|| QueryError::Malformed(format!("{rtype} has no type code")))?);
    let mut message = Message::query();
    message.metadata.recursion_desired = recursion;
    message.add_query(Query::query(qname, qtype));
    let id = message.metadata.id;
    let bytes = message.to_vec().map_err(|e| QueryError::Malformed(e.to_string()))?;
    let answer = tokio::time::timeout(timeout, async {
        let reply = udp(server, &bytes).await?;
        let reply = decode(&reply, id)?;
        if reply.metadata.truncation { decode(&tcp(server, &bytes).await?, id) } else { Ok(reply) }
    })
    .await
    .map_err(|_| QueryError::TimedOut(timeout))??;
    let code = answer.metadata.response_code;
    if code != ResponseCode::NoError && code != ResponseCode::NXDomain {
        return Err(QueryError::Rcode(code.to_string()));
    }
    let mut out = Answer {
        authoritative: answer.metadata.authoritative,
        nxdomain: code == ResponseCode::NXDomain,
        ..Answer::default()
    };
    for record in answer.answers.iter().chain(&answer.authorities) {
        let in_answer = answer.answers.iter().any(|a| std::ptr::eq(a, record));
        match &record.data {
            DnsRData::TXT(txt) if in_answer => out.txt.push(txt.txt_data.concat()),
            DnsRData::CNAME(target) if in_answer => {
                if let Ok(target) = Name::parse(&target.0.to_ascii()) {
                    out.cnames.push(target);
                }
            }
            DnsRData::NS(target) => {
                if let Ok(target) = Name::parse(&target.0.to_ascii()) {
                    out.nameservers.push(target);
                }
            }
            DnsRData::A(a) if in_answer => out.addresses.push(a.0.into()),
            DnsRData::AAAA(a) if in_answer => out.addresses.push(a.0.into()),
            _ => {}
        }
    }
    Ok(out)
}

fn decode(bytes: &[u8], id: u16) -> Result<Message, QueryError> {
    let message = Message::from_vec(bytes).map_err(|e| QueryError::Malformed(e.to_string()))?;
    if message.metadata.id != id || message.metadata.message_type != MessageType::Response {
        return Err(QueryError::Malformed("not the answer to our question".into()));
    }
    Ok(message)
}

async fn udp(server: SocketAddr, bytes: &[u8]) -> Result<Vec<u8>, QueryError> {
    let local: SocketAddr = if server.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let socket = tokio::net::UdpSocket::bind(local).await.map_err(io)?;
    socket.connect(server).await.map_err(io)?;
    socket.send(bytes).await.map_err(io)?;
    let mut buffer = vec![0; 65_535];
    let n = socket.recv(&mut buffer).await.map_err(io)?;
    buffer.truncate(n);
    Ok(buffer)
}

async fn tcp(server: SocketAddr, bytes: &[u8]) -> Result<Vec<u8>, QueryError> {
    let mut stream = tokio::net::TcpStream::connect(server).await.map_err(io)?;
    let length = u16::try_from(bytes.len()).map_err(|_| QueryError::Malformed("question too long".into()))?;
    let mut framed = length.to_be_bytes().to_vec();
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).await.map_err(io)?;
    let length = stream.read_u16().await.map_err(io)?;
    let mut buffer = vec![0; usize::from(length)];
    stream.read_exact(&mut buffer).await.map_err(io)?;
    Ok(buffer)
}

fn io(error: std::io::Error) -> QueryError {
    QueryError::Io(error.to_string())
}

/// `host[:port]` or `[v6]:port`, port 53 when not given.
pub fn parse_server(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr);
    }
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, 53))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_take_port_53_by_default() {
        assert_eq!(parse_server("127.0.0.1"), Some("127.0.0.1:53".parse().unwrap()));
        assert_eq!(parse_server("127.0.0.1:5353"), Some("127.0.0.1:5353".parse().unwrap()));
        assert_eq!(parse_server("::1"), Some("[::1]:53".parse().unwrap()));
        assert_eq!(parse_server("[::1]:5353"), Some("[::1]:5353".parse().unwrap()));
        assert_eq!(parse_server("ns1.example"), None);
    }
}
