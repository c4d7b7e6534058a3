//! A client written from the Domeneshop API document alone (plain HTTP, not zonectl's
//! provider), run against the emulator unchanged but for its endpoint: domains, records of
//! every type, forwards, dynamic DNS, invoices.

use reqwest::StatusCode;
use serde_json::{Value, json};
use zonectl_emulator::domeneshop::{Domeneshop, Seed};
use zonectl_emulator::{Emulator, Options};

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    secret: String,
}

impl Client {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).basic_auth(&self.token, Some(&self.secret))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.request(reqwest::Method::GET, path).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
        self.request(method, path).json(&body).send().await.unwrap()
    }
}

async fn start() -> (Emulator, Client) {
    let emulator = Emulator::start(Domeneshop::new(Seed::default()), Options::default()).await.unwrap();
    let seed = Seed::default();
    let client =
        Client { http: reqwest::Client::new(), base: emulator.endpoint(), token: seed.token, secret: seed.secret };
    (emulator, client)
}

/// The id of the domain called `name`.
async fn domain_id(client: &Client, name: &str) -> u64 {
    let (_, list) = client.get(&format!("/domains?domain={name}")).await;
    list.as_array().unwrap().iter().find(|d| d["domain"] == name).unwrap()["id"].as_u64().unwrap()
}

#[tokio::test]
async fn domains_and_authentication() {
    let (emulator, client) = start().await;
    assert!(emulator.endpoint().ends_with("/v0"));
    let r = reqwest::get(format!("{}/domains", client.base)).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let (status, all) = client.get("/domains").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = all.as_array().unwrap().iter().map(|d| d["domain"].as_str().unwrap()).collect();
    assert_eq!(names, ["example.no", "example.com", "parked.example"]);
    let parked = &all[2];
    assert_eq!(parked["services"]["dns"], false);
    assert_eq!(all[0]["nameservers"], json!(["ns1.hyp.net", "ns2.hyp.net", "ns3.hyp.net"]));
    // The filter is a substring filter.
    let (_, filtered) = client.get("/domains?domain=.no").await;
    assert_eq!(filtered.as_array().unwrap().len(), 1);

    let id = domain_id(&client, "example.com").await;
    let (status, one) = client.get(&format!("/domains/{id}")).await;
    assert_eq!((status, one["domain"].as_str()), (StatusCode::OK, Some("example.com")));
    // A domain id not in the account is 403, never 404.
    let (status, body) = client.get("/domains/999").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "resource:unauthorized");
    // A domain without the DNS service has no records to show.
    let parked_id = parked["id"].as_u64().unwrap();
    let (status, body) = client.get(&format!("/domains/{parked_id}/dns")).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("resource:unknown")));
}

#[tokio::test]
async fn records_of_every_type() {
    let (_emulator, client) = start().await;
    let id = domain_id(&client, "example.com").await;
    let dns = format!("/domains/{id}/dns");
    // Numbers as numbers here, as strings there: both are taken.
    let bodies = [
        json!({"host": "@", "ttl": 3600, "type": "A", "data": "192.168.0.1"}),
        json!({"host": "www", "ttl": 300, "type": "AAAA", "data": "2001:0db8:85a3:0000:0000:8a2e:0370:7334"}),
        json!({"host": "alias", "ttl": 600, "type": "CNAME", "data": "www.example.com"}),
        json!({"host": "@", "ttl": 3600, "type": "MX", "data": "mx.example.com", "priority": 10}),
        json!({"host": "_sip._tcp", "type": "SRV", "data": "sip.example.com", "priority": "10", "weight": "100", "port": 443}),
        json!({"host": "@", "ttl": 3600, "type": "TXT", "data": "v=spf1 include:_spf.domeneshop.no ~all"}),
        json!({"host": "sub", "ttl": 3600, "type": "NS", "data": "ns1.example.net"}),
        json!({"host": "@", "ttl": 3600, "type": "CAA", "data": "letsencrypt.org", "flags": 0, "tag": "1"}),
        json!({"host": "_443._tcp", "ttl": 3600, "type": "TLSA", "data": "ABCDEF0123", "usage": 3, "selector": 1, "dtype": 1}),
        json!({"host": "sub", "ttl": 3600, "type": "DS", "data": "abcdef0123", "tag": 12345, "alg": 13, "digest": 2}),
    ];
    let mut ids = Vec::new();
    for body in &bodies {
        let r = client.send(reqwest::Method::POST, &dns, body.clone()).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{body}");
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let created: Value = r.json().await.unwrap();
        let new_id = created["id"].as_u64().unwrap();
        assert!(location.ends_with(&format!("/v0/domains/{id}/dns/{new_id}")), "{location}");
        ids.push(new_id);
    }
    // Read back: type-specific numbers as strings, hostnames absolute with a dot, the
    // default TTL where none was given, CAA's tag as its code.
    let (_, srv) = client.get(&format!("{dns}/{}", ids[4])).await;
    assert_eq!(
        srv,
        json!({"id": ids[4], "host": "_sip._tcp", "ttl": 3600, "type": "SRV", "data": "sip.example.com.", "priority": "10", "weight": "100", "port": "443"})
    );
    let (_, caa) = client.get(&format!("{dns}/{}", ids[7])).await;
    assert_eq!(
        (caa["tag"].as_str(), caa["flags"].as_str(), caa["data"].as_str()),
        (Some("1"), Some("0"), Some("letsencrypt.org"))
    );
    let (_, mx) = client.get(&format!("{dns}/{}", ids[3])).await;
    assert_eq!((mx["data"].as_str(), mx["priority"].as_str()), (Some("mx.example.com."), Some("10")));
    // Filters by host and type.
    let (_, at_apex) = client.get(&format!("{dns}?host=@&type=TXT")).await;
    assert_eq!(at_apex.as_array().unwrap().len(), 1);
    assert_eq!(at_apex[0]["data"], "v=spf1 include:_spf.domeneshop.no ~all");
    // A full replacement answers 204; the TTL left out is 3600 again.
    let r = client
        .send(
            reqwest::Method::PUT,
            &format!("{dns}/{}", ids[0]),
            json!({"host": "@", "type": "A", "data": "192.168.0.2"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, a) = client.get(&format!("{dns}/{}", ids[0])).await;
    assert_eq!((a["data"].as_str(), a["ttl"].as_u64()), (Some("192.168.0.2"), Some(3600)));
    // Delete: 204, then 404.
    for expected in [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND] {
        let r = client.request(reqwest::Method::DELETE, &format!("{dns}/{}", ids[5])).send().await.unwrap();
        assert_eq!(r.status(), expected);
    }
}

#[tokio::test]
async fn validation_as_the_service_does_it() {
    let (_emulator, client) = start().await;
    let id = domain_id(&client, "example.com").await;
    let dns = format!("/domains/{id}/dns");
    let refused = |body: Value| async {
        let r = client.send(reqwest::Method::POST, &dns, body).await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert!(body["code"].is_string() && body["help"].is_string(), "{body}");
        status
    };
    assert_eq!(
        refused(json!({"host": "a", "ttl": 90, "type": "A", "data": "192.0.2.1"})).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        refused(json!({"host": "a", "ttl": 30, "type": "A", "data": "192.0.2.1"})).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(refused(json!({"host": "a", "type": "A", "data": "192.0.2.300"})).await, StatusCode::BAD_REQUEST);
    assert_eq!(refused(json!({"host": "a", "type": "ANAME", "data": "x.example.net"})).await, StatusCode::BAD_REQUEST);
    assert_eq!(refused(json!({"host": "a", "type": "MX", "data": "mx.example.net"})).await, StatusCode::BAD_REQUEST);
    // A CNAME beside other data.
    let ok =
        client.send(reqwest::Method::POST, &dns, json!({"host": "c", "type": "A", "data": "192.0.2.1", "id": 0})).await;
    assert_eq!(ok.status(), StatusCode::CREATED, "an id of 0 in a create is tolerated");
    assert_eq!(refused(json!({"host": "c", "type": "CNAME", "data": "x.example.net"})).await, StatusCode::CONFLICT);
    // A body without a Content-Type header is read as JSON all the same.
    let r = client
        .request(reqwest::Method::POST, &dns)
        .body(r#"{"host":"d","type":"TXT","data":"no content type"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn forwards() {
    let (_emulator, client) = start().await;
    let id = domain_id(&client, "example.com").await;
    let forwards = format!("/domains/{id}/forwards/");
    let r = client
        .send(
            reqwest::Method::POST,
            &forwards,
            json!({"host": "www", "frame": false, "url": "https://www.example.org/"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with(&format!("/v0/domains/{id}/forwards/www")), "{location}");
    let (status, list) = client.get(&forwards).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([{"host": "www", "frame": false, "url": "https://www.example.org/"}]));
    // Without the trailing slash, as the vendor's own libraries send it (domeneshop on
    // PyPI, `domeneshop/client.py`: `POST /domains/{id}/forwards`): the same forwards.
    let bare = format!("/domains/{id}/forwards");
    let (status, same) = client.get(&bare).await;
    assert_eq!((status, same), (StatusCode::OK, list));
    let r = client.send(reqwest::Method::POST, &bare, json!({"host": "shop", "url": "https://shop.example/"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(r.headers()["location"].to_str().unwrap().ends_with("/forwards/shop"));
    // Another forward, or an address record, at the host: 409. A URL without its scheme: 400.
    let again =
        client.send(reqwest::Method::POST, &forwards, json!({"host": "www", "url": "https://x.example/"})).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let a = client
        .send(
            reqwest::Method::POST,
            &format!("/domains/{id}/dns"),
            json!({"host": "www", "type": "A", "data": "192.0.2.1"}),
        )
        .await;
    assert_eq!(a.status(), StatusCode::CONFLICT);
    let no_scheme = client.send(reqwest::Method::POST, &forwards, json!({"host": "x", "url": "www.example.org"})).await;
    assert_eq!(no_scheme.status(), StatusCode::BAD_REQUEST);
    // Change, read, delete by host.
    let r = client
        .send(
            reqwest::Method::PUT,
            &format!("{forwards}www"),
            json!({"host": "www", "frame": true, "url": "https://framed.example/"}),
        )
        .await;
    assert!(r.status().is_success());
    let (_, one) = client.get(&format!("{forwards}www")).await;
    assert_eq!(one["frame"], true);
    let moved = client
        .send(reqwest::Method::PUT, &format!("{forwards}www"), json!({"host": "web", "url": "https://x.example/"}))
        .await;
    assert_eq!(moved.status(), StatusCode::BAD_REQUEST, "a forward's host cannot change");
    let r = client.request(reqwest::Method::DELETE, &format!("{forwards}www")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn dynamic_dns_and_invoices() {
    let (_emulator, client) = start().await;
    let id = domain_id(&client, "example.com").await;
    let r = client
        .request(reqwest::Method::GET, "/dyndns/update?hostname=home.example.com&myip=192.0.2.5,2001:db8::5")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, first) = client.get(&format!("/domains/{id}/dns?host=home")).await;
    assert_eq!(first.as_array().unwrap().len(), 2);
    // Without myip, the caller's own address; the A record is replaced, with a new id, and
    // the AAAA record, of the other family, stays.
    let r = client.request(reqwest::Method::GET, "/dyndns/update?hostname=home.example.com").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, second) = client.get(&format!("/domains/{id}/dns?host=home&type=A")).await;
    assert_eq!(second.as_array().unwrap().len(), 1);
    assert_eq!(second[0]["data"], "127.0.0.1");
    assert_ne!(second[0]["id"], first[0]["id"]);
    let (_, v6) = client.get(&format!("/domains/{id}/dns?host=home&type=AAAA")).await;
    assert_eq!(v6[0]["data"], "2001:db8::5");
    let r = client
        .request(reqwest::Method::GET, "/dyndns/update?hostname=nothere.example&myip=192.0.2.5")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let (status, invoices) = client.get("/invoices?status=paid").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(invoices.as_array().unwrap().len(), 1);
    let (status, one) = client.get("/invoices/2").await;
    assert_eq!((status, one["status"].as_str()), (StatusCode::OK, Some("unpaid")));
}
