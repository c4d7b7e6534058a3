//! A client written from the VPS.org document alone (plain HTTP, not zonectl's provider),
//! against the emulator unchanged but for its endpoint: zones listed page by page and made,
//! records of all eight types created, read, PATCHed and deleted; the trailing slash, the
//! scopes and the error shapes as a DRF service has them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use zonectl_emulator::vpsorg::{Seed, VpsOrg};
use zonectl_emulator::{Emulator, Options};

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = request.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

async fn start(token: fn(&Seed) -> String) -> (Emulator, Client) {
    let seed = Seed { page_size: 1, ..Seed::default() };
    let emulator = Emulator::start(VpsOrg::new(seed.clone()), Options::default()).await.unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let client = Client { http, base: emulator.endpoint(), token: token(&seed) };
    (emulator, client)
}

#[tokio::test]
async fn zones_and_records_of_all_eight_types() {
    let (emulator, client) = start(|s| s.token.clone()).await;
    assert!(emulator.endpoint().ends_with("/api/v1"));
    // The zone list, page by page, following `next`.
    let mut domains = Vec::new();
    let mut next = Some(format!("{}/dns-zones/", client.base));
    while let Some(url) = next {
        let page: Value = client.http.get(&url).bearer_auth(&client.token).send().await.unwrap().json().await.unwrap();
        assert_eq!(page["count"], 2);
        domains.extend(page["results"].as_array().unwrap().iter().map(|z| z["domain"].as_str().unwrap().to_owned()));
        next = page["next"].as_str().map(str::to_owned);
    }
    assert_eq!(domains, ["example.com", "example.org"]);
    // A zone made: 201, with `records: []` as the document's example shows it.
    let (status, zone) = client.call(Method::POST, "/dns-zones/", Some(json!({"domain": "newdomain.com"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{zone}");
    let uuid = zone["uuid"].as_str().unwrap().to_owned();
    assert_eq!(uuid.len(), 36, "a canonical UUID");
    assert_eq!(zone["records"], json!([]));
    let (status, _) = client.call(Method::POST, "/dns-zones/", Some(json!({"domain": "newdomain.com"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "it exists");
    let (_, filtered) = client.call(Method::GET, "/dns-zones/?domain=newdomain.com", None).await;
    assert_eq!(filtered["results"][0]["uuid"], uuid.as_str());

    let cases = [
        json!({"record_type": "A", "name": "www", "value": "192.0.2.1", "ttl": 3600}),
        json!({"record_type": "AAAA", "name": "www", "value": "2001:0db8::1"}),
        json!({"record_type": "CNAME", "name": "alias", "value": "example.com"}),
        json!({"record_type": "MX", "name": "@", "value": "mail.example.com", "priority": 10}),
        json!({"record_type": "TXT", "name": "@", "value": "v=spf1 include:_spf.google.com ~all"}),
        json!({"record_type": "NS", "name": "sub", "value": "ns1.example.com"}),
        json!({"record_type": "SRV", "name": "_sip._tcp", "value": "10 5060 sip.example.com", "priority": 10}),
        json!({"record_type": "CAA", "name": "@", "value": "0 issue \"letsencrypt.org\""}),
    ];
    for body in cases {
        let (status, record) =
            client.call(Method::POST, &format!("/dns-zones/{uuid}/records/"), Some(body.clone())).await;
        assert_eq!(status, StatusCode::CREATED, "{body}: {record}");
        let keys: Vec<&str> = record.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["uuid", "record_type", "name", "value", "ttl", "priority", "created_at"]);
        assert_eq!(record["ttl"], body.get("ttl").cloned().unwrap_or(json!(3600)), "3600 by default");
        let id = record["uuid"].as_str().unwrap();
        let (status, read) = client.call(Method::GET, &format!("/dns-records/{id}/"), None).await;
        assert_eq!((status, &read["value"]), (StatusCode::OK, &body["value"]));
        let (status, patched) =
            client.call(Method::PATCH, &format!("/dns-records/{id}/"), Some(json!({"ttl": 1800}))).await;
        assert_eq!((status, patched["ttl"].as_u64(), &patched["value"]), (StatusCode::OK, Some(1800), &body["value"]));
        let (status, _) = client.call(Method::DELETE, &format!("/dns-records/{id}/"), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, gone) = client.call(Method::GET, &format!("/dns-records/{id}/"), None).await;
        assert_eq!((status, gone["detail"].as_str()), (StatusCode::NOT_FOUND, Some("Not found.")));
    }
    // The records across zones, filtered: the new zone holds no NS of its own.
    let (_, across) = client.call(Method::GET, &format!("/dns-records/?zone={uuid}&record_type=NS"), None).await;
    assert_eq!(across["count"], 0);
    let (_, seeded) = client.call(Method::GET, "/dns-records/?record_type=NS", None).await;
    assert_eq!(seeded["count"], 4, "the seeded zones' NS records");
    let (status, _) = client.call(Method::DELETE, &format!("/dns-zones/{uuid}/"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn slashes_scopes_and_errors() {
    let (_emulator, client) = start(|s| s.token.clone()).await;
    // Without the trailing slash: a GET is redirected, a write is an error.
    let r = client.http.get(format!("{}/dns-zones", client.base)).bearer_auth(&client.token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(r.headers()["location"], "/api/v1/dns-zones/");
    let (status, _) = client.call(Method::POST, "/dns-zones", Some(json!({"domain": "x.example"}))).await;
    assert!(status.is_client_error(), "{status}");
    // A missing priority: the documented error shape.
    let (_, zones) = client.call(Method::GET, "/dns-zones/", None).await;
    let uuid = zones["results"][0]["uuid"].as_str().unwrap().to_owned();
    let (status, error) = client
        .call(
            Method::POST,
            &format!("/dns-zones/{uuid}/records/"),
            Some(json!({"record_type": "MX", "name": "@", "value": "mx.example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error,
        json!({"detail": "MX records require a priority value", "error_code": "validation_error", "field": "priority"})
    );
    // Another account's zone: 404, as if it did not exist.
    let state = client.http.get(format!("{}/dns-zones/", client.base)).bearer_auth(&client.token).send().await.unwrap();
    assert_eq!(state.status(), StatusCode::OK);
    let (status, _) = client.call(Method::GET, "/dns-zones/00000000-0000-4000-a000-000000000000/", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A bad token: 401.
    let bad = Client { token: "vps_wrong".into(), ..client };
    let (status, body) = bad.call(Method::GET, "/dns-zones/", None).await;
    assert_eq!((status, body["detail"].as_str()), (StatusCode::UNAUTHORIZED, Some("Invalid token.")));
}

#[tokio::test]
async fn a_read_only_token_reads_and_is_refused_writes() {
    let (_emulator, client) = start(|s| s.read_only_token.clone()).await;
    let (status, zones) = client.call(Method::GET, "/dns-zones/", None).await;
    assert_eq!(status, StatusCode::OK);
    let uuid = zones["results"][0]["uuid"].as_str().unwrap().to_owned();
    let (status, body) = client
        .call(
            Method::POST,
            &format!("/dns-zones/{uuid}/records/"),
            Some(json!({"record_type": "A", "name": "x", "value": "192.0.2.1"})),
        )
        .await;
    assert_eq!((status, body["detail"].as_str()), (StatusCode::FORBIDDEN, Some("Token lacks dns:create permission")));
}
