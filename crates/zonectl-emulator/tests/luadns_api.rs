//! The LuaDNS emulator on the wire, as curl or a shell client sees it.

use reqwest::StatusCode;
use zonectl_emulator::luadns::{LuaDns, Seed};
use zonectl_emulator::{Emulator, Options};

async fn start() -> (Emulator, reqwest::Client, Seed) {
    let emulator = Emulator::start(LuaDns::new(Seed::default()), Options::default()).await.unwrap();
    (emulator, reqwest::Client::new(), Seed::default())
}

fn auth(seed: &Seed) -> String {
    format!("Basic {}", data_encoding_b64(&format!("{}:{}", seed.email, seed.api_key)))
}

fn data_encoding_b64(text: &str) -> String {
    // The test's own encoder, independent of the emulator's decoder.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

#[tokio::test]
async fn wire_behaviour() {
    let (emulator, client, seed) = start().await;
    let url = |path: &str| format!("{}{path}", emulator.endpoint());
    let get =
        |path: &str| client.get(url(path)).header("authorization", auth(&seed)).header("accept", "application/json");

    // No Accept header: 403 with the object error.
    let r = client.get(url("/zones")).header("authorization", auth(&seed)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["message"], "Invalid 'Accept' header");
    assert!(body["request_id"].is_string());

    // A bad key: 401 with WWW-Authenticate.
    let r = client
        .get(url("/zones"))
        .header("accept", "application/json")
        .header("authorization", "Basic eDp5")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"Authorization Required\"");

    // Zone list: records null, rate-limit headers, compact JSON in the real key order.
    let r = get("/zones").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-ratelimit-limit"], "1200");
    // Only admitted requests count: the 403 and 401 above did not.
    assert_eq!(r.headers()["x-ratelimit-remaining"], "1199");
    let text = r.text().await.unwrap();
    // The key order of luadns-go's recorded `testdata/http/zones.index`.
    assert!(text.starts_with(r#"[{"id":1,"name":"example.com","template_id":0,"synced":false,"#), "{text}");
    assert!(text.contains(r#""records":null"#));

    // A new zone's SOA and four NS, names with trailing dots, key order id,name,type,content,ttl,zone_id.
    let r = get("/zones/1/records").send().await.unwrap();
    assert_eq!(r.headers()["x-total-count"], "5");
    let text = r.text().await.unwrap();
    assert!(
        text.starts_with(r#"[{"id":1000,"name":"example.com.","type":"SOA","content":"ns1.luadns.net. "#),
        "{text}"
    );
    assert_eq!(text.matches(r#""type":"NS""#).count(), 4);

    // Paging with both page-count headers.
    let r = get("/zones/1/records?limit=2&page=2").send().await.unwrap();
    assert_eq!(
        (r.headers()["x-total-pages"].to_str().unwrap(), r.headers()["x-pages-count"].to_str().unwrap()),
        ("3", "3")
    );
    assert_eq!(r.headers()["x-page"], "2");
    assert_eq!(r.json::<Vec<serde_json::Value>>().await.unwrap().len(), 2);

    // An invalid IPv4 address: 400 with an array; a wrong JSON type: DeserializationError.
    let post = |body: &str| {
        client
            .post(url("/zones/1/records"))
            .header("authorization", auth(&seed))
            .header("accept", "application/json")
            .body(body.to_owned())
    };
    let r = post(r#"{"name":"www.example.com.","type":"A","content":"192.0.2.300","ttl":300}"#).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.text().await.unwrap(),
        r#"[{"fieldNames":["content"],"classification":"ValidationError","message":"invalid IPv4 address"}]"#
    );
    let r = post(r#"{"name":"www.example.com.","type":"A","content":"192.0.2.1","ttl":"300"}"#).send().await.unwrap();
    let errors: serde_json::Value = r.json().await.unwrap();
    assert_eq!(errors[0]["classification"], "DeserializationError");

    // Create answers 200 with the record; delete answers the deleted record; again is 404.
    let r = post(r#"{"name":"www.example.com.","type":"A","content":"192.0.2.1","ttl":300}"#).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let created: serde_json::Value = r.json().await.unwrap();
    let path = url(&format!("/zones/1/records/{}", created["id"]));
    let delete = || client.delete(&path).header("authorization", auth(&seed)).header("accept", "application/json");
    let r = delete().send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["content"], "192.0.2.1");
    assert_eq!(delete().send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // The default NS TTL cannot change.
    let r = client
        .patch(url("/zones/1/records"))
        .header("authorization", auth(&seed))
        .header("accept", "application/json")
        .body(r#"[{"name":"example.com.","type":"NS","content":"ns1.luadns.net.","ttl":3600}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // The control surface.
    let log: Vec<serde_json::Value> =
        client.get(format!("http://{}/_emulator/log", emulator.addr())).send().await.unwrap().json().await.unwrap();
    assert!(log.len() >= 10 && log[0]["status"] == 403);
}
