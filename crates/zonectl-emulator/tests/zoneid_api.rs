//! A client written from the ZoneID API v2 document alone (plain HTTP, not zonectl's
//! provider), against the emulator unchanged but for its endpoint: every one of the eleven
//! types created, read, updated and deleted, with string ids and array bodies.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zonectl_emulator::zoneid::{Seed, ZoneId};
use zonectl_emulator::{Emulator, Options};

struct Client {
    http: reqwest::Client,
    base: String,
    seed: Seed,
    /// Whether to wait out a 429 (as the document asks of clients) or hand it back.
    patient: bool,
}

/// The service's minute lasts this long here.
const MINUTE: std::time::Duration = std::time::Duration::from_millis(300);

impl Client {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        loop {
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .basic_auth(&self.seed.user, Some(&self.seed.api_key));
            if let Some(body) = &body {
                request = request.json(body);
            }
            let r = request.send().await.unwrap();
            let (status, headers) = (r.status(), r.headers().clone());
            if status == StatusCode::TOO_MANY_REQUESTS && self.patient {
                tokio::time::sleep(MINUTE / 4).await;
                continue;
            }
            return (status, headers, r.json().await.unwrap_or(Value::Null));
        }
    }
}

/// A patient client meets a service whose minute is short; an impatient one, a real minute,
/// so that its 70 requests all fall in one.
async fn start(patient: bool) -> (Emulator, Client) {
    let time_scale = if patient { MINUTE.as_secs_f64() / 60.0 } else { 1.0 };
    let options = Options { time_scale, ..Options::default() };
    let emulator = Emulator::start(ZoneId::new(Seed::default()), options).await.unwrap();
    let client = Client { http: reqwest::Client::new(), base: emulator.endpoint(), seed: Seed::default(), patient };
    (emulator, client)
}

#[tokio::test]
async fn every_type_through_its_own_endpoints() {
    let (emulator, client) = start(true).await;
    assert!(emulator.endpoint().ends_with("/v2"));
    let cases = [
        ("a", json!({"name": "www.example.com", "destination": "192.0.2.1"}), json!({"destination": "192.0.2.2"})),
        (
            "aaaa",
            json!({"name": "www.example.com", "destination": "2001:db8::1"}),
            json!({"destination": "2001:db8::2"}),
        ),
        (
            "cname",
            json!({"name": "alias.example.com", "destination": "www.example.com"}),
            json!({"destination": "other.example.com"}),
        ),
        (
            "mx",
            json!({"name": "example.com", "destination": "mx.example.com", "priority": 10}),
            json!({"priority": 20}),
        ),
        (
            "ns",
            json!({"name": "sub.example.com", "destination": "ns1.example.net"}),
            json!({"destination": "ns2.example.net"}),
        ),
        ("txt", json!({"name": "example.com", "destination": "v=spf1 -all"}), json!({"destination": "v=spf1 mx -all"})),
        (
            "srv",
            json!({"name": "_sip._tcp.example.com", "destination": "sip.example.com", "priority": 10, "weight": 5, "port": 5060}),
            json!({"port": 5061}),
        ),
        (
            "caa",
            json!({"name": "example.com", "destination": "letsencrypt.org", "flag": 0, "tag": "issue"}),
            json!({"tag": "issuewild"}),
        ),
        (
            "tlsa",
            json!({"name": "_443._tcp.example.com", "destination": "abcdef", "certificate_usage": 3, "selector": 1, "matching_type": 1}),
            json!({"selector": 0}),
        ),
        (
            "sshfp",
            json!({"name": "host.example.com", "destination": "abcdef", "algorithm": 4, "type": 2}),
            json!({"type": 1}),
        ),
        ("url", json!({"name": "go.example.com", "destination": "https://example.org/"}), json!({"type": 302})),
    ];
    for (rtype, body, change) in cases {
        let path = format!("/dns/example.com/{rtype}");
        let (status, headers, created) = client.call(Method::POST, &path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::CREATED, "{rtype}: {created}");
        assert!(headers.contains_key("x-status-message") && headers.contains_key("x-ratelimit-remaining"));
        let created = &created.as_array().expect("an array")[0];
        let id = created["id"].as_str().expect("a string id").to_owned();
        let keys: Vec<&str> = created.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(&keys[..4], ["id", "resource_url", "name", "destination"], "{rtype}");
        assert!(created["resource_url"].as_str().unwrap().starts_with("http://"), "absolute");
        assert_eq!((created["delete"].as_bool(), created["modify"].as_bool()), (Some(true), Some(true)));
        assert!(created.get("ttl").is_none(), "no TTL anywhere");
        if rtype == "url" {
            assert_eq!(created["type"], 301, "301 by default");
        }
        // Read one: still an array of one.
        let (status, _, one) = client.call(Method::GET, &format!("{path}/{id}"), None).await;
        assert_eq!((status, one.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
        // Update: PUT with the whole resource, answered with it.
        let mut updated = body.clone();
        updated.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        let (status, _, after) = client.call(Method::PUT, &format!("{path}/{id}"), Some(updated.clone())).await;
        // The document's status codes: "201 successful POST/PUT request".
        assert_eq!(status, StatusCode::CREATED, "{rtype}: {after}");
        for (key, value) in change.as_object().unwrap() {
            assert_eq!(&after[0][key], value, "{rtype}.{key}");
        }
        let (_, _, list) = client.call(Method::GET, &path, None).await;
        assert!(list.as_array().unwrap().iter().any(|r| r["id"] == id.as_str()));
        let (status, _, _) = client.call(Method::DELETE, &format!("{path}/{id}"), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _, _) = client.call(Method::GET, &format!("{path}/{id}"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn errors_the_zone_and_system_records() {
    let (_emulator, client) = start(true).await;
    let r = reqwest::get(format!("{}/dns/example.com/a", client.base)).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (status, _, zone) = client.call(Method::GET, "/dns/example.com", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(zone[0]["identificator"], "example.com");
    assert_eq!(zone[0]["ipv6"], true);
    // Validation: 422 keyed by the resource's fields, the message in X-Status-Message.
    let (status, headers, errors) = client
        .call(Method::POST, "/dns/example.com/a", Some(json!({"name": "x.example.com", "destination": "300.1.1.1"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(errors["destination"].is_array(), "{errors}");
    assert_eq!(headers["x-status-message"], "invalid IPv4 address");
    let (status, _, _) =
        client.call(Method::POST, "/dns/example.com/a", Some(json!({"name": "www", "destination": "192.0.2.1"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "short names are refused");
    // A duplicate: zone_conflict.
    let body = json!({"name": "d.example.com", "destination": "192.0.2.1"});
    assert_eq!(client.call(Method::POST, "/dns/example.com/a", Some(body.clone())).await.0, StatusCode::CREATED);
    let (status, _, conflict) = client.call(Method::POST, "/dns/example.com/a", Some(body)).await;
    assert_eq!((status, conflict), (StatusCode::UNPROCESSABLE_ENTITY, json!({"name": "zone_conflict"})));
    // The system NS records refuse change.
    let (_, _, ns) = client.call(Method::GET, "/dns/example.com/ns", None).await;
    let system = &ns[0];
    assert_eq!((system["delete"].as_bool(), system["modify"].as_bool()), (Some(false), Some(false)));
    let id = system["id"].as_str().unwrap();
    assert_eq!(client.call(Method::DELETE, &format!("/dns/example.com/ns/{id}"), None).await.0, StatusCode::FORBIDDEN);
    // IPv6 off refuses AAAA; the zone is switched with PUT.
    let aaaa = json!({"name": "www.example.ee", "destination": "2001:db8::1"});
    assert_eq!(
        client.call(Method::POST, "/dns/example.ee/aaaa", Some(aaaa.clone())).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (status, _, zone) = client.call(Method::PUT, "/dns/example.ee", Some(json!({"ipv6": true}))).await;
    assert_eq!((status, zone[0]["ipv6"].as_bool()), (StatusCode::CREATED, Some(true)));
    assert_eq!(client.call(Method::POST, "/dns/example.ee/aaaa", Some(aaaa)).await.0, StatusCode::CREATED);
    assert_eq!(client.call(Method::GET, "/dns/nothere.example/a", None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_rate_limit_and_the_pager() {
    let (_emulator, client) = start(false).await;
    for i in 0..5 {
        let body = json!({"name": format!("p{i}.example.com"), "destination": format!("192.0.2.{i}")});
        client.call(Method::POST, "/dns/example.com/a", Some(body)).await;
    }
    // Pages asked for with the request headers; sorting with x-order-*.
    let r = client
        .http
        .get(format!("{}/dns/example.com/a", client.base))
        .basic_auth(&client.seed.user, Some(&client.seed.api_key))
        .header("x-pager-page", "2")
        .header("x-pager-limit", "2")
        .header("x-order-by", "name")
        .header("x-order-dir", "desc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-pager-enabled"], "1");
    assert_eq!(r.headers()["x-pager-pages"], "3");
    assert_eq!(r.headers()["x-pager-items"], "5");
    let page: Value = r.json().await.unwrap();
    assert_eq!(page[0]["name"], "p2.example.com");
    // Past 60 in the minute: 429, with the budget in the headers.
    let mut last = (StatusCode::OK, String::new());
    for _ in 0..70 {
        let (status, headers, _) = client.call(Method::GET, "/dns/example.com", None).await;
        last = (status, headers["x-ratelimit-remaining"].to_str().unwrap().to_owned());
    }
    assert_eq!(last, (StatusCode::TOO_MANY_REQUESTS, "0".to_owned()));
}
